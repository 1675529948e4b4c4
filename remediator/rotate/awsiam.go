package rotate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/bmatcuk/doublestar/v4"
	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/pause"
)

// AWSIAM rotates leaked IAM user access keys through Vault's AWS secrets
// engine. The leaked pair itself says whose it is (STS GetCallerIdentity,
// signed with it): an IAM user of an account rotation.aws maps is put
// under a Vault static role on the account's mount (Vault creates the
// replacement key at once, then every rotation period), the fix's
// references point at <mount>/static-creds/<role>, and the leaked key is
// deactivated (UpdateAccessKey Inactive: reversible) and then deleted once
// the approval policy allows. Anything else — a root, assumed-role or
// federated identity, an account no mapping names, a pair AWS refuses — is
// rotation_manual with the reason, and nothing is created.
//
// pushvault holds no long-lived AWS credentials: the IAM calls it makes
// (ListAccessKeys, UpdateAccessKey, DeleteAccessKey) are signed with
// short-lived credentials it reads from the account's Vault role
// (<mount>/creds/<vault_credentials_role>), and every call goes to the
// endpoints the mount's own configuration (<mount>/config/root) names.
// Each AWS call is bounded by rotation.aws_timeout.
//
// The two-keys limit: a user may hold two access keys, and Vault's static
// role, to make room for its own, deletes the user's oldest key, which may
// be the other key a running service uses. A user with two keys therefore
// waits for approval (Hold), and once approved pushvault deletes the
// leaked key itself first, so the takeover deletes no other key. Vault's
// first rotation of the role (rotation_period later) deletes the user's
// oldest key — the other one, or the inactive leaked key whose deletion
// is held — which the approval message, Change.Held and the rotated
// record's other_keys say.
//
// Resuming: before its first change Rotate notes the user's ARN
// (Target.note, kept with the vaulted secret), so an attempt resumed after
// the leaked key was deactivated or deleted still finds the user.
type AWSIAM struct {
	c        *api.Client
	accounts []AWSAccount
	timeout  time.Duration
	// deadWait bounds how long the checks wait for IAM's eventual
	// consistency (a new key authenticating, a deactivated one refused).
	deadWait time.Duration
	// http carries every AWS call (its timeout is a last bound: each call
	// has its context's).
	http *http.Client
}

// NewAWSIAM returns the rotator for the accounts rotation.aws maps;
// timeout bounds each AWS call (0: DefaultAWSTimeout).
func NewAWSIAM(c *api.Client, accounts []AWSAccount, timeout time.Duration) *AWSIAM {
	if timeout <= 0 {
		timeout = DefaultAWSTimeout
	}
	return &AWSIAM{c: c, accounts: accounts, timeout: timeout, deadWait: DefaultDeadWait, http: &http.Client{Timeout: timeout}}
}

var (
	_ Rotator = (*AWSIAM)(nil)
	_ Holder  = (*AWSIAM)(nil)
	_ Deleter = (*AWSIAM)(nil)
)

// Delete modes of rotation.aws[].delete_leaked_key.
const (
	DeleteOnApproval = "on_approval"
	DeleteAtOnce     = "at_once"
)

// awsIdentity is what STS says of a key pair.
type awsIdentity struct {
	account, arn string
	// kind is "user", "root", "assumed-role", "federated-user" or the
	// ARN's resource type.
	kind string
	// user is the IAM user name (kind "user"), path stripped.
	user string
}

// parseARN reads an identity ARN: arn:aws:iam::ACCT:user/PATH/NAME,
// arn:aws:iam::ACCT:root, arn:aws:sts::ACCT:assumed-role/ROLE/SESSION,
// arn:aws:sts::ACCT:federated-user/NAME.
func parseARN(account, arn string) awsIdentity {
	id := awsIdentity{account: account, arn: arn}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		id.kind = "unknown"
		return id
	}
	res := parts[5]
	kind, rest, _ := strings.Cut(res, "/")
	id.kind = kind
	if kind == "user" && parts[2] == "iam" {
		segs := strings.Split(rest, "/")
		id.user = segs[len(segs)-1]
	}
	return id
}

// AWSRoleName is the static role pushvault creates for IAM user user of
// account: pv-<account>-<user> in characters Vault takes, cut to 40, then
// 16 hex digits of SHA-256(account NUL user) (see RoleName). One role per
// user: two would each replace the key the other hands out.
func AWSRoleName(account, user string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + user))
	readable := pathSafe(account + "-" + user)
	if len(readable) > 40 {
		readable = readable[:40]
	}
	return "pv-" + readable + "-" + hex.EncodeToString(sum[:8])
}

// awsPair is the leaked pair, with the session token of a leaked
// session key (AWSSessionKey: the scanner keeps "secret:token" as the
// secret).
type awsPair struct{ id, secret, token string }

func leakedPair(t Target) (awsPair, bool) {
	p := awsPair{id: t.Exposed.Reveal("access_key_id"), secret: t.Exposed.Reveal("secret_access_key")}
	p.secret, p.token, _ = strings.Cut(p.secret, ":")
	return p, p.id != "" && p.secret != ""
}

// Match implements Rotator: an AWS key pair (an access key, or a session
// key with its token), when rotation.aws maps an account. Which account
// and identity it belongs to is STS's to say (Rotate).
func (a *AWSIAM) Match(_ context.Context, t Target) (bool, error) {
	_, ok := leakedPair(t)
	return ok && (t.Detector == "AWS" || t.Detector == "AWSSessionKey") && len(a.accounts) > 0, nil
}

// mountConfig is where a mount's AWS calls go, from <mount>/config/root.
type mountConfig struct {
	mount                    string
	iamEndpoint, stsEndpoint string
	region, stsRegion        string
}

func (m mountConfig) iamRegion() string {
	if m.region != "" {
		return m.region
	}
	return "us-east-1"
}

func (m mountConfig) stsSigningRegion() string {
	if m.stsRegion != "" {
		return m.stsRegion
	}
	return m.iamRegion()
}

// config reads the mount's root configuration (no secret is read: Vault
// does not return the secret key).
func (a *AWSIAM) config(ctx context.Context, mount string) (mountConfig, error) {
	path := mount + "/config/root"
	sec, err := a.c.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return mountConfig{}, fmt.Errorf("vault read %s: %w", path, err)
	}
	if sec == nil {
		return mountConfig{}, fmt.Errorf("vault read %s: the AWS mount is not configured", path)
	}
	s := func(k string) string { v, _ := sec.Data[k].(string); return v }
	return mountConfig{mount: mount, iamEndpoint: s("iam_endpoint"), stsEndpoint: s("sts_endpoint"), region: s("region"), stsRegion: s("sts_region")}, nil
}

// awsAccount is a mapping with its defaults.
func (acct AWSAccount) withDefaults() AWSAccount {
	if acct.Mount == "" {
		acct.Mount = "aws"
	}
	if acct.RotationPeriod == "" {
		acct.RotationPeriod = "24h"
	}
	if acct.DeleteLeakedKey == "" {
		acct.DeleteLeakedKey = DeleteOnApproval
	}
	return acct
}

// errRefused is STS refusing the pair (InvalidClientTokenId,
// SignatureDoesNotMatch): the key is unknown, inactive or deleted, or the
// secret does not belong to it.
var errRefused = errors.New("AWS refused the key pair")

// refusedCodes are the error codes by which AWS refuses a key pair.
var refusedCodes = []string{"InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId"}

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// callerIdentity asks STS at m's endpoint who signs with (id, secret,
// token). A refusal is an error wrapping errRefused with AWS's code.
func (a *AWSIAM) callerIdentity(ctx context.Context, m mountConfig, id, secret, token string) (awsIdentity, error) {
	cl := sts.NewFromConfig(a.awsConfig(m.stsSigningRegion(), id, secret, token), func(o *sts.Options) {
		if m.stsEndpoint != "" {
			o.BaseEndpoint = aws.String(m.stsEndpoint)
		}
	})
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, err := cl.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if code := awsCode(err); slices.Contains(refusedCodes, code) {
			return awsIdentity{}, fmt.Errorf("%w (%s)", errRefused, code)
		}
		return awsIdentity{}, a.callErr(ctx, cctx, "sts GetCallerIdentity", m.stsEndpoint, err)
	}
	return parseARN(aws.ToString(out.Account), aws.ToString(out.Arn)), nil
}

// ErrAWSTimeout is an AWS endpoint that did not answer within
// rotation.aws_timeout: a failure to retry, not a verdict on the key.
var ErrAWSTimeout = errors.New("no answer within rotation.aws_timeout")

func (a *AWSIAM) callErr(ctx, cctx context.Context, op, endpoint string, err error) error {
	if endpoint == "" {
		endpoint = "AWS's default endpoint"
	}
	if ctx.Err() == nil && cctx.Err() != nil {
		return fmt.Errorf("%s at %s: %w (%v)", op, endpoint, ErrAWSTimeout, a.timeout)
	}
	return fmt.Errorf("%s at %s: %w", op, endpoint, err)
}

func (a *AWSIAM) awsConfig(region, id, secret, token string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
		HTTPClient:  a.http,
	}
}

// owner finds whose the leaked pair is, asking STS at the endpoint of
// every mapped mount until one answers (mounts of one AWS partition share
// it). It returns the identity, the mapping of its account and that
// mount's configuration; a *ManualError when the pair authenticates
// nowhere, is no IAM user's, or its account or user is not mapped.
func (a *AWSIAM) owner(ctx context.Context, pair awsPair) (awsIdentity, AWSAccount, mountConfig, error) {
	mounts, err := a.stsMounts(ctx)
	if err != nil {
		return awsIdentity{}, AWSAccount{}, mountConfig{}, err
	}
	var refused []string
	var id awsIdentity
	found := false
	for _, m := range mounts {
		id, err = a.callerIdentity(ctx, m, pair.id, pair.secret, pair.token)
		if errors.Is(err, errRefused) {
			refused = append(refused, err.Error())
			continue
		}
		if err != nil {
			return awsIdentity{}, AWSAccount{}, mountConfig{}, err
		}
		found = true
		break
	}
	if !found && strings.HasPrefix(pair.id, "ASIA") {
		return awsIdentity{}, AWSAccount{}, mountConfig{}, &ManualError{Reason: "the leaked key is a temporary STS session key (ASIA…) that STS GetCallerIdentity refused (" +
			strings.Join(refused, "; ") + "): session keys are no IAM user's to rotate and expire on their own; revoke the issuing role's sessions if it may still be live; pushvault changed nothing"}
	}
	if !found {
		return awsIdentity{}, AWSAccount{}, mountConfig{}, &ManualError{Reason: "the leaked key pair does not authenticate: STS GetCallerIdentity signed with it was refused (" +
			strings.Join(refused, "; ") + "), so its leak proves nothing about any account pushvault may act on; pushvault changed nothing"}
	}
	switch id.kind {
	case "user":
	case "root":
		return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("the leaked key is the root user's of account %s (%s): root keys are not rotated by pushvault; delete it in the console as the root user (Security credentials), and use IAM users or roles instead; pushvault changed nothing", id.account, id.arn)}
	case "assumed-role":
		return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("the leaked key belongs to an assumed-role session (%s): temporary credentials are not IAM user keys; revoke the role's active sessions (IAM console: Roles, Revoke active sessions, or an aws:TokenIssueTime deny policy) and find where the session credentials were copied from; pushvault changed nothing", id.arn)}
	case "federated-user":
		return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("the leaked key belongs to a federated-user session (%s): it expires on its own; deny the user's sessions issued before now with an aws:TokenIssueTime policy; pushvault changed nothing", id.arn)}
	default:
		return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("the leaked key's identity %s is not an IAM user: pushvault rotates IAM user keys only and changed nothing", id.arn)}
	}
	for _, acct := range a.accounts {
		acct = acct.withDefaults()
		if acct.Account != id.account {
			continue
		}
		if acct.Users != "" {
			if ok, _ := doublestar.Match(acct.Users, id.user); !ok {
				return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("IAM user %s of account %s is not among the users rotation.aws maps there (%q): pushvault changed nothing", id.user, id.account, acct.Users)}
			}
		}
		m, err := a.config(ctx, acct.Mount)
		if err != nil {
			return id, AWSAccount{}, mountConfig{}, err
		}
		return id, acct, m, nil
	}
	return id, AWSAccount{}, mountConfig{}, &ManualError{Reason: fmt.Sprintf("the leaked key is IAM user %s's of account %s, which rotation.aws does not map: pushvault changed nothing", id.user, id.account)}
}

// keyAdmin is an IAM client signed with short-lived credentials from the
// account's Vault role, and the lease to revoke when done.
type keyAdmin struct {
	iam   *iam.Client
	lease string
}

// admin reads short-lived credentials from <mount>/creds/<role> (an
// assumed_role or iam_user role scoped to the key calls).
func (a *AWSIAM) admin(ctx context.Context, acct AWSAccount, m mountConfig) (*keyAdmin, error) {
	path := acct.Mount + "/creds/" + acct.CredentialsRole
	sec, err := a.c.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("vault read %s: %w", path, err)
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("vault read %s: no credentials", path)
	}
	s := func(k string) string { v, _ := sec.Data[k].(string); return v }
	if s("access_key") == "" || s("secret_key") == "" {
		return nil, fmt.Errorf("vault read %s: no access_key/secret_key", path)
	}
	token := s("session_token") // STS credential types; security_token is its older name
	if token == "" {
		token = s("security_token")
	}
	cl := iam.NewFromConfig(a.awsConfig(m.iamRegion(), s("access_key"), s("secret_key"), token), func(o *iam.Options) {
		if m.iamEndpoint != "" {
			o.BaseEndpoint = aws.String(m.iamEndpoint)
		}
	})
	return &keyAdmin{iam: cl, lease: sec.LeaseID}, nil
}

// release revokes the admin credentials' lease (best effort: an
// assumed_role lease expires on its own, an iam_user one at its TTL).
func (a *AWSIAM) release(ctx context.Context, ad *keyAdmin) {
	if ad == nil || ad.lease == "" {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
	defer cancel()
	_ = a.c.Sys().RevokeWithContext(rctx, ad.lease)
}

// listKeys lists user's access keys.
func (a *AWSIAM) listKeys(ctx context.Context, ad *keyAdmin, m mountConfig, user string) ([]iamtypes.AccessKeyMetadata, error) {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, err := ad.iam.ListAccessKeys(cctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, a.callErr(ctx, cctx, "iam ListAccessKeys "+user, m.iamEndpoint, err)
	}
	return out.AccessKeyMetadata, nil
}

func (a *AWSIAM) setStatus(ctx context.Context, ad *keyAdmin, m mountConfig, user, keyID string, st iamtypes.StatusType) error {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := ad.iam.UpdateAccessKey(cctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(keyID), Status: st})
	if err != nil {
		return a.callErr(ctx, cctx, "iam UpdateAccessKey "+keyID+" "+string(st), m.iamEndpoint, err)
	}
	return nil
}

func (a *AWSIAM) deleteKey(ctx context.Context, ad *keyAdmin, m mountConfig, user, keyID string) error {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := ad.iam.DeleteAccessKey(cctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(keyID)})
	if err != nil && awsCode(err) != "NoSuchEntity" {
		return a.callErr(ctx, cctx, "iam DeleteAccessKey "+keyID, m.iamEndpoint, err)
	}
	return nil
}

// takenOver reports whether l's user is under its static role: the role
// exists and Vault holds its key. Vault saves a role before it creates the
// role's first key, so a write whose IAM calls failed leaves a role without
// a key (and outside Vault's rotation queue); writing it again makes Vault
// create the key, and until then the user is not taken over.
func (a *AWSIAM) takenOver(ctx context.Context, l located) (bool, error) {
	if !l.role.exists {
		return false, nil
	}
	path := l.acct.Mount + "/static-creds/" + l.role.name
	creds, err := a.c.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return false, fmt.Errorf("vault read %s: %w", path, err)
	}
	return creds != nil, nil
}

// awsRole is the static role that manages (or will manage) the user.
type awsRole struct {
	name, path string
	exists     bool
}

func (a *AWSIAM) findRole(ctx context.Context, acct AWSAccount, id awsIdentity) (awsRole, error) {
	name := AWSRoleName(id.account, id.user)
	r := awsRole{name: name, path: acct.Mount + "/static-roles/" + name}
	sec, err := a.c.Logical().ReadWithContext(ctx, r.path)
	if err != nil {
		return awsRole{}, fmt.Errorf("vault read %s: %w", r.path, err)
	}
	if sec == nil {
		return r, nil
	}
	if user, _ := sec.Data["username"].(string); user != id.user {
		return awsRole{}, fmt.Errorf("vault static role %s manages IAM user %s, not %s: pushvault leaves it alone", r.path, user, id.user)
	}
	r.exists = true
	return r, nil
}

// located is a leaked key with its owner, mapping and role.
type located struct {
	pair awsPair
	id   awsIdentity
	acct AWSAccount
	m    mountConfig
	role awsRole
}

// locate finds the owner of t's pair and its role. A resumed attempt whose
// pair STS now refuses (the earlier attempt deactivated or deleted it)
// takes the owner the earlier attempt noted (t.note, written before it
// changed anything), else looks for the key among the users of
// pushvault's static roles on the mapped mounts; so does byKey (the held
// deletion of a key deactivated earlier).
func (a *AWSIAM) locate(ctx context.Context, t Target, byKey bool) (located, error) {
	pair, ok := leakedPair(t)
	if !ok {
		return located{}, errors.New("the finding is not an AWS key pair")
	}
	id, acct, m, err := a.owner(ctx, pair)
	var manual *ManualError
	if errors.As(err, &manual) && (byKey || t.resumed) && id.arn == "" {
		if t.note != "" {
			return a.noted(ctx, pair, t.note)
		}
		if l, ok, ferr := a.findByKey(ctx, pair); ferr != nil || ok {
			return l, ferr
		}
	}
	if err != nil {
		return located{}, err
	}
	role, err := a.findRole(ctx, acct, id)
	if err != nil {
		return located{}, err
	}
	return located{pair: pair, id: id, acct: acct, m: m, role: role}, nil
}

// noted is the leaked key's owner as an earlier attempt noted it (the IAM
// user's ARN, which STS gave when the pair still worked), with its
// mapping and role. The note is pushvault's own, kept with the vaulted
// secret; the mapping must still hold the account and user.
func (a *AWSIAM) noted(ctx context.Context, pair awsPair, note string) (located, error) {
	parts := strings.SplitN(note, ":", 6)
	if len(parts) < 6 {
		return located{}, fmt.Errorf("the earlier attempt's note %q is not an IAM user's ARN", note)
	}
	id := parseARN(parts[4], note)
	if id.kind != "user" || id.user == "" {
		return located{}, fmt.Errorf("the earlier attempt's note %q is not an IAM user's ARN", note)
	}
	for _, acct := range a.accounts {
		acct = acct.withDefaults()
		if acct.Account != id.account {
			continue
		}
		if acct.Users != "" {
			if ok, _ := doublestar.Match(acct.Users, id.user); !ok {
				return located{}, &ManualError{Reason: fmt.Sprintf("IAM user %s of account %s, whose key an earlier attempt began to rotate, is no longer among the users rotation.aws maps there (%q): pushvault changes nothing more", id.user, id.account, acct.Users)}
			}
		}
		m, err := a.config(ctx, acct.Mount)
		if err != nil {
			return located{}, err
		}
		role, err := a.findRole(ctx, acct, id)
		if err != nil {
			return located{}, err
		}
		return located{pair: pair, id: id, acct: acct, m: m, role: role}, nil
	}
	return located{}, &ManualError{Reason: fmt.Sprintf("account %s, whose IAM user %s's key an earlier attempt began to rotate, is no longer mapped by rotation.aws: pushvault changes nothing more", id.account, id.user)}
}

// findByKey looks for the user holding the leaked key among the users of
// pushvault's static roles (pv-*) on the mapped mounts.
func (a *AWSIAM) findByKey(ctx context.Context, pair awsPair) (located, bool, error) {
	for _, acct := range a.accounts {
		acct = acct.withDefaults()
		m, err := a.config(ctx, acct.Mount)
		if err != nil {
			return located{}, false, err
		}
		list, err := a.c.Logical().ListWithContext(ctx, acct.Mount+"/static-roles")
		if err != nil {
			return located{}, false, fmt.Errorf("vault list %s/static-roles: %w", acct.Mount, err)
		}
		if list == nil {
			continue
		}
		keys, _ := list.Data["keys"].([]any)
		var ad *keyAdmin
		for _, k := range keys {
			name, _ := k.(string)
			if !strings.HasPrefix(name, "pv-"+pathSafe(acct.Account)+"-") {
				continue
			}
			sec, err := a.c.Logical().ReadWithContext(ctx, acct.Mount+"/static-roles/"+name)
			if err != nil || sec == nil {
				continue
			}
			user, _ := sec.Data["username"].(string)
			if AWSRoleName(acct.Account, user) != name {
				continue
			}
			if ad == nil {
				if ad, err = a.admin(ctx, acct, m); err != nil {
					return located{}, false, err
				}
			}
			ks, err := a.listKeys(ctx, ad, m, user)
			if err != nil {
				a.release(ctx, ad)
				return located{}, false, err
			}
			for _, key := range ks {
				if aws.ToString(key.AccessKeyId) == pair.id {
					a.release(ctx, ad)
					id := awsIdentity{account: acct.Account, kind: "user", user: user,
						arn: "arn:aws:iam::" + acct.Account + ":user/" + user}
					return located{pair: pair, id: id, acct: acct, m: m,
						role: awsRole{name: name, path: acct.Mount + "/static-roles/" + name, exists: true}}, true, nil
				}
			}
		}
		a.release(ctx, ad)
	}
	return located{}, false, nil
}

// Hold implements Holder: a user who already holds two access keys and is
// not yet under pushvault's static role waits for approval, because making
// room for Vault's key means deleting one (pushvault deletes the leaked
// one once approved; Vault alone would delete the oldest, which may be
// the other key a running service uses). Errors are the checks' own; a
// rotation that cannot start says so in Rotate.
func (a *AWSIAM) Hold(ctx context.Context, t Target) (string, error) {
	l, err := a.locate(ctx, t, false)
	var manual *ManualError
	if errors.As(err, &manual) {
		return "", nil // Rotate records the verdict
	}
	if err != nil {
		return "", err
	}
	if done, err := a.takenOver(ctx, l); err != nil || done {
		return "", err
	}
	ad, err := a.admin(ctx, l.acct, l.m)
	if err != nil {
		return "", err
	}
	defer a.release(ctx, ad)
	keys, err := a.listKeys(ctx, ad, l.m, l.id.user)
	if err != nil {
		return "", err
	}
	if len(keys) < 2 {
		return "", nil
	}
	var other []string
	for _, k := range keys {
		if id := aws.ToString(k.AccessKeyId); id != l.pair.id {
			other = append(other, id+" ("+string(k.Status)+")")
		}
	}
	return fmt.Sprintf("IAM user %s already has two access keys, the leaked one and %s: Vault's static role needs room for its own key and would delete the oldest, "+
		"which may be one a running service uses; approve the rotation to have pushvault delete the leaked key first (the other key stays, "+
		"until Vault's first rotation of the role, %s after the takeover, deletes the user's oldest key: move what uses it to the static role's pair before then), or delete a key yourself",
		l.id.user, strings.Join(other, ", "), l.acct.RotationPeriod), nil
}

// Rotate implements Rotator: the user goes under a static role (or stays
// under its existing one), the new pair Vault holds must authenticate as
// the user, and the leaked key is deactivated, then deleted when
// t.Approved or the mapping's delete_leaked_key is at_once (else
// Change.Held says the deletion waits).
func (a *AWSIAM) Rotate(ctx context.Context, t Target) (Change, error) {
	l, err := a.locate(ctx, t, false)
	if err != nil {
		return Change{}, err
	}
	ad, err := a.admin(ctx, l.acct, l.m)
	if err != nil {
		return Change{}, err
	}
	defer a.release(ctx, ad)
	keys, err := a.listKeys(ctx, ad, l.m, l.id.user)
	if err != nil {
		return Change{}, err
	}
	leaked := findKey(keys, l.pair.id)
	detail := map[string]string{"iam_user": l.id.arn, "aws_account": l.id.account, "static_role": l.role.path, "leaked_key_id": l.pair.id}
	done, err := a.takenOver(ctx, l)
	if err != nil {
		return Change{}, err
	}
	if !done && t.writeNote != nil && t.note != l.id.arn {
		// Before the first change: once the leaked key is deleted (or
		// inactive) STS no longer says whose it was, and a resumed attempt
		// must still find the user.
		if err := t.writeNote(ctx, l.id.arn); err != nil {
			return Change{}, fmt.Errorf("noting the IAM user before changing it: %w", err)
		}
	}
	if !done {
		if len(keys) >= 2 {
			if !t.Approved {
				return Change{}, fmt.Errorf("IAM user %s has two access keys and the rotation is not approved: Vault would delete the oldest", l.id.user)
			}
			if leaked == nil {
				return Change{}, fmt.Errorf("IAM user %s has two access keys and neither is the leaked one: pushvault deletes none of them", l.id.user)
			}
			if err := a.deleteKey(ctx, ad, l.m, l.id.user, l.pair.id); err != nil {
				return Change{}, err
			}
			leaked = nil
			detail["leaked_key"] = "deleted before the takeover (the user had two keys; approved)"
		}
		if _, err := a.c.Logical().WriteWithContext(ctx, l.role.path, map[string]any{
			"username": l.id.user, "rotation_period": l.acct.RotationPeriod,
		}); err != nil {
			return Change{}, fmt.Errorf("vault write %s (user %s): %w", l.role.path, l.id.user, err)
		}
	}
	credsPath := l.acct.Mount + "/static-creds/" + l.role.name
	newID, err := a.checkNewPair(ctx, l, credsPath)
	if err != nil {
		return Change{}, err
	}
	if newID == l.pair.id {
		return Change{}, &ManualError{Reason: fmt.Sprintf("the leaked key is the one Vault's static role %s holds now: rotate it in Vault (delete and recreate the role after updating what reads it); pushvault changed nothing", l.role.path)}
	}
	detail["new_key_id"], detail["new_key_check"] = newID, "sts GetCallerIdentity: "+l.id.arn
	var others []string
	for _, k := range keys {
		if id := aws.ToString(k.AccessKeyId); id != l.pair.id && id != newID {
			others = append(others, id+" ("+string(k.Status)+")")
		}
	}
	if len(others) > 0 {
		detail["other_keys"] = strings.Join(others, ", ") + ": left as they are; Vault's next rotation of the role deletes the user's oldest key, so what uses them must move to " + l.acct.Mount + "/static-creds/" + l.role.name
	}
	var held string
	if leaked != nil {
		if leaked.Status != iamtypes.StatusTypeInactive {
			if err := a.setStatus(ctx, ad, l.m, l.id.user, l.pair.id, iamtypes.StatusTypeInactive); err != nil {
				return Change{}, err
			}
		}
		detail["leaked_key"] = "inactive"
		if t.Approved || l.acct.DeleteLeakedKey == DeleteAtOnce {
			if err := a.deleteKey(ctx, ad, l.m, l.id.user, l.pair.id); err != nil {
				return Change{}, err
			}
			detail["leaked_key"] = "deleted"
		} else {
			held = fmt.Sprintf("the leaked key %s of IAM user %s is inactive (reversible: UpdateAccessKey Active, until Vault's first rotation of the role, %s after the takeover, deletes it as the user's oldest key); deleting it waits for approval",
				l.pair.id, l.id.user, l.acct.RotationPeriod)
		}
	} else if detail["leaked_key"] == "" {
		detail["leaked_key"] = "already deleted"
	}
	return Change{
		Data: Data{"engine": "aws", "static_creds": credsPath, "iam_user": l.id.arn,
			"note": "the key pair now lives in " + credsPath + " and Vault rotates it every " + l.acct.RotationPeriod},
		Refs:   map[string]Ref{"access_key_id": {Path: credsPath, Key: "access_key"}, "secret_access_key": {Path: credsPath, Key: "secret_key"}},
		Detail: detail,
		Held:   held,
	}, nil
}

func findKey(keys []iamtypes.AccessKeyMetadata, id string) *iamtypes.AccessKeyMetadata {
	for i := range keys {
		if aws.ToString(keys[i].AccessKeyId) == id {
			return &keys[i]
		}
	}
	return nil
}

// checkNewPair reads the pair Vault holds for the role and checks that it
// authenticates as the user (asking again, with backoff, within deadWait:
// IAM is eventually consistent). It returns the new key's id.
func (a *AWSIAM) checkNewPair(ctx context.Context, l located, credsPath string) (string, error) {
	creds, err := a.c.Logical().ReadWithContext(ctx, credsPath)
	if err != nil {
		return "", fmt.Errorf("vault read %s: %w", credsPath, err)
	}
	if creds == nil {
		return "", fmt.Errorf("vault read %s: no credentials", credsPath)
	}
	id, _ := creds.Data["access_key"].(string)
	secret, _ := creds.Data["secret_key"].(string)
	if id == "" || secret == "" {
		return "", fmt.Errorf("vault %s holds no key pair", credsPath)
	}
	if id == l.pair.id {
		return id, nil
	}
	err = a.eventually(ctx, func() (bool, error) {
		who, err := a.callerIdentity(ctx, l.m, id, secret, "")
		if errors.Is(err, errRefused) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if who.arn != l.id.arn {
			return false, fmt.Errorf("the key Vault holds at %s authenticates as %s, not %s", credsPath, who.arn, l.id.arn)
		}
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("the key pair Vault holds at %s: %w", credsPath, err)
	}
	return id, nil
}

// eventually asks check until it says true, after 250 ms, then twice as
// long each time, until deadWait has passed (then an error).
func (a *AWSIAM) eventually(ctx context.Context, check func() (bool, error)) error {
	deadline := time.Now().Add(a.deadWait)
	for wait := firstDeadPoll; ; wait *= 2 {
		ok, err := check()
		if err != nil || ok {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("AWS still gave the old answer after %v", a.deadWait)
		}
		if err := pause.For(ctx, min(wait, left)); err != nil {
			return err
		}
	}
}

// CheckDead implements Rotator: STS must refuse the leaked pair
// (InvalidClientTokenId once the key is inactive or deleted) at the
// endpoint of every mapped mount, asked again within deadWait while AWS
// propagates the change.
func (a *AWSIAM) CheckDead(ctx context.Context, t Target) error {
	pair, _ := leakedPair(t)
	mounts, err := a.stsMounts(ctx)
	if err != nil {
		return err
	}
	var accepted bool
	werr := a.eventually(ctx, func() (bool, error) {
		for _, m := range mounts {
			_, err := a.callerIdentity(ctx, m, pair.id, pair.secret, pair.token)
			if errors.Is(err, errRefused) {
				continue
			}
			accepted = err == nil
			return false, err
		}
		return true, nil
	})
	switch {
	case werr == nil:
		return nil
	case accepted:
		return fmt.Errorf("%w: STS still accepts the leaked key pair after %v", ErrStillWorks, a.deadWait)
	}
	return fmt.Errorf("asking STS whether the leaked key pair works: %w", werr)
}

// stsMounts returns the configuration of the mapped mounts, one per STS
// endpoint.
func (a *AWSIAM) stsMounts(ctx context.Context) ([]mountConfig, error) {
	var out []mountConfig
	seen := map[string]bool{}
	for _, acct := range a.accounts {
		m, err := a.config(ctx, acct.withDefaults().Mount)
		if err != nil {
			return nil, err
		}
		if !seen[m.stsEndpoint] {
			seen[m.stsEndpoint] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// Delete implements Deleter: the held deletion of the leaked key, once
// approved. A key already gone is fine.
func (a *AWSIAM) Delete(ctx context.Context, t Target) (map[string]string, error) {
	l, err := a.locate(ctx, t, true)
	if err != nil {
		return nil, err
	}
	ad, err := a.admin(ctx, l.acct, l.m)
	if err != nil {
		return nil, err
	}
	defer a.release(ctx, ad)
	if err := a.deleteKey(ctx, ad, l.m, l.id.user, l.pair.id); err != nil {
		return nil, err
	}
	return map[string]string{"iam_user": l.id.arn, "leaked_key_id": l.pair.id, "leaked_key": "deleted"}, nil
}
