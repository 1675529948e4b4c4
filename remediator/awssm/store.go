package awssm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/store"
	"github.com/pushvault/pushvault/scanner"
)

// Config is the server's store: aws_secretsmanager section. Credentials
// are not configured here: they come from the standard AWS chain of the
// server's environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
// AWS_SESSION_TOKEN, AWS_PROFILE and the shared files, web identity
// (EKS IRSA), ECS task role, EC2 instance profile).
type Config struct {
	// Region is the AWS region (required unless AWS_REGION is set).
	Region string `yaml:"region"`
	// Endpoint replaces Secrets Manager's endpoint (a VPC endpoint, a
	// stand-in); default AWS's for the region (or
	// AWS_ENDPOINT_URL_SECRETS_MANAGER).
	Endpoint string `yaml:"endpoint"`
	// KMSKeyID encrypts new secrets (key id, ARN or alias); default the
	// account's aws/secretsmanager key.
	KMSKeyID string `yaml:"kms_key_id"`
	// NameTemplate names secrets; default pushvault/{owner}/{repo}/{name}.
	NameTemplate string `yaml:"name_template"`
	// Timeout bounds each call to Secrets Manager; default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults of Config.
const (
	DefaultNameTemplate = "pushvault/{owner}/{repo}/{name}"
	DefaultTimeout      = 10 * time.Second
)

// Staging labels pushvault uses beside AWS's own AWSCURRENT.
const (
	// LabelExposed marks the version that holds the exposed value, until
	// destroy_exposed removes it.
	LabelExposed = "PUSHVAULT_EXPOSED"
	labelCurrent = "AWSCURRENT"
)

// maxVersions bounds the versions pushvault numbers: AWS keeps about 100.
const maxVersions = 100

// Store keeps secrets in AWS Secrets Manager, one secret per distinct leaked
// value per repository, named by the template. Version n of a secret has
// the VersionId (= ClientRequestToken) VersionID(fingerprint, name, n), so
// every write can be repeated: AWS answers a request token it has seen with
// the same value as done. Safe for concurrent use.
type Store struct {
	c        *secretsmanager.Client
	region   string
	kmsKeyID string
	template string
	timeout  time.Duration
}

// Validate reports every problem of cfg, naming fields under field
// ("store.aws").
func (cfg Config) Validate(field string) error {
	var errs []error
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must not be negative", field))
	}
	if cfg.NameTemplate != "" && !strings.Contains(cfg.NameTemplate, "{name}") {
		errs = append(errs, fmt.Errorf("%s.name_template: must contain {name}", field))
	}
	return errors.Join(errs...)
}

// New returns a store for cfg with credentials from the standard AWS chain.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate("store.aws"); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ac, err := loadAWS(ctx, cfg.Region, timeout)
	if err != nil {
		return nil, err
	}
	c := secretsmanager.NewFromConfig(ac, func(o *secretsmanager.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	tmpl := cfg.NameTemplate
	if tmpl == "" {
		tmpl = DefaultNameTemplate
	}
	return &Store{c: c, region: ac.Region, kmsKeyID: cfg.KMSKeyID, template: tmpl, timeout: timeout}, nil
}

// loadAWS loads the standard AWS configuration (region, credentials) with
// every HTTP request bounded by timeout.
func loadAWS(ctx context.Context, region string, timeout time.Duration) (aws.Config, error) {
	// The SDK's buildable client, so AWS_CA_BUNDLE still applies.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout))}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
	}
	if ac.Region == "" {
		return aws.Config{}, errors.New("aws secrets manager: no region: set store.aws.region or AWS_REGION")
	}
	return ac, nil
}

// MountPrefix starts Mount: a ledger record's location
// aws-secretsmanager:REGION/NAME names this store.
const MountPrefix = "aws-secretsmanager:"

// Name names the store for people: AWS Secrets Manager.
func (s *Store) Name() string { return "AWS Secrets Manager" }

// Mount names the store in locations: aws-secretsmanager:REGION.
func (s *Store) Mount() string { return MountPrefix + s.region }

// Ref is the reference a fix writes: vals's
// ref+awssecrets://NAME?region=REGION#/KEY.
func (s *Store) Ref(name, key string) rewrite.Ref {
	return rewrite.Ref{External: Reference{Name: name, Region: s.region, Key: key}.String()}
}

// VersionID is the version id (and client request token) of version n of
// the secret name holding the value with fingerprint fp: derived from the
// keyed fingerprint, never from the value, in the UUID form AWS's own SDKs
// generate.
func VersionID(fp, name string, n int) string {
	sum := sha256.Sum256([]byte("pushvault-awssm-version\x00" + fp + "\x00" + name + "\x00" + strconv.Itoa(n)))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Put stores item unless it is already stored, and returns where it is.
func (s *Store) Put(ctx context.Context, item store.Item) (store.Stored, error) {
	if item.Fingerprint == "" {
		return store.Stored{}, errors.New("aws secrets manager put: secret has no fingerprint")
	}
	if len(item.Data) == 0 {
		return store.Stored{}, errors.New("aws secrets manager put: secret has no data")
	}
	name := item.Name
	for attempt := 0; attempt < 3; attempt++ {
		st, taken, err := s.putAt(ctx, s.name(item.Owner, item.Repo, name), item, true)
		if err != nil {
			return store.Stored{}, err
		}
		if !taken {
			return st, nil
		}
		// Another secret holds this name: make ours unique.
		name = item.Name + "_" + item.Fingerprint.Short()
		if attempt == 1 {
			name = item.Name + "_" + strings.ReplaceAll(string(item.Fingerprint), ":", "")[len(item.Fingerprint)-20:]
		}
	}
	return store.Stored{}, fmt.Errorf("aws secrets manager put: no free name for %s under %s", item.Name, s.name(item.Owner, item.Repo, ""))
}

// putAt stores item as the secret called name; taken reports that name
// belongs to another secret. retry allows one more look after a concurrent
// creation.
func (s *Store) putAt(ctx context.Context, name string, item store.Item, retry bool) (store.Stored, bool, error) {
	fp := string(item.Fingerprint)
	v1 := VersionID(fp, name, 1)
	d, err := s.describe(ctx, name)
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		value, err := encode(item.Data)
		if err != nil {
			return store.Stored{}, false, err
		}
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name), ClientRequestToken: aws.String(v1),
			SecretString: aws.String(value), Tags: tags(store.Metadata(item)),
			Description: aws.String(metaValue("pushvault: a secret found in " + item.Source.Repository + " by " + item.Source.Detector))}
		if s.kmsKeyID != "" {
			in.KmsKeyId = aws.String(s.kmsKeyID)
		}
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		_, err = s.c.CreateSecret(cctx, in)
		cancel()
		var exists *types.ResourceExistsException
		if errors.As(err, &exists) && retry {
			// Created by someone else between our look and our write: look again.
			return s.putAt(ctx, name, item, false)
		}
		if err != nil {
			return store.Stored{}, false, fmt.Errorf("aws secrets manager create %s: %w", name, err)
		}
		if err := s.label(ctx, name, LabelExposed, v1, ""); err != nil {
			return store.Stored{}, false, err
		}
		return store.Stored{Path: name, Version: 1, Created: true}, false, nil
	case err != nil:
		return store.Stored{}, false, err
	}
	md := tagMap(d.Tags)
	if d.DeletedDate != nil || md[store.MetaFingerprint] != fp {
		return store.Stored{}, true, nil // another secret's, or scheduled for deletion
	}
	// Ours (the fingerprint is a keyed HMAC only pushvault writes). Version
	// 1 may have no label left: its exposed value was destroyed.
	stages, ok := d.VersionIdsToStages[v1]
	if ok && !slices.Contains(stages, LabelExposed) && md[mdDestroyed] != "true" && store.ExposedVersion(md) == 1 {
		// A crash between the creation and the label: finish.
		if err := s.label(ctx, name, LabelExposed, v1, ""); err != nil {
			return store.Stored{}, false, err
		}
	}
	return store.Stored{Path: name, Version: store.ExposedVersion(md)}, false, nil
}

// mdDestroyed is the rotation's metadata key saying the exposed version
// is gone (remediator/rotate writes it).
const mdDestroyed = "exposed_version_destroyed"

// Secret reads where the secret stands: its current version (the number of
// the version AWSCURRENT is on; one past the last version pushvault wrote
// when someone else moved it) and its tags.
func (s *Store) Secret(ctx context.Context, name string) (store.Secret, error) {
	d, err := s.describe(ctx, name)
	if err != nil {
		return store.Secret{}, err
	}
	md := tagMap(d.Tags)
	return store.Secret{Current: current(md[store.MetaFingerprint], name, d.VersionIdsToStages), Metadata: md}, nil
}

// current is the number of the version AWSCURRENT is on.
func current(fp, name string, stages map[string][]string) int {
	last := 0
	for n := 1; n <= maxVersions; n++ {
		st, ok := stages[VersionID(fp, name, n)]
		if !ok {
			continue
		}
		if slices.Contains(st, labelCurrent) {
			return n
		}
		last = n
	}
	return last + 1
}

// UpdateMetadata tags the secret with changes (each value escaped to fit a
// tag, tagValue) and returns current with them merged in. An empty value
// removes its key: the tag is set empty, which the store reads as
// absent (one TagResource call; no UntagResource permission needed).
func (s *Store) UpdateMetadata(ctx context.Context, name string, current, changes map[string]string) (map[string]string, error) {
	md := make(map[string]string, len(current)+len(changes))
	for k, v := range current {
		md[k] = v
	}
	set := map[string]string{}
	for k, v := range changes {
		set[k] = v
		if v == "" {
			delete(md, k)
			continue
		}
		md[k] = untag(tagValue(v)) // what a later read finds
	}
	if len(set) == 0 {
		return md, nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	_, err := s.c.TagResource(cctx, &secretsmanager.TagResourceInput{SecretId: aws.String(name), Tags: tags(set)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("aws secrets manager tag %s: %w", name, err)
	}
	return md, nil
}

// Version reads version n's keys; nil when it holds no staging label any
// more (destroyed by Destroy) or does not exist.
func (s *Store) Version(ctx context.Context, name string, n int) (map[string]string, error) {
	d, err := s.describe(ctx, name)
	if err != nil {
		return nil, err
	}
	id := VersionID(tagMap(d.Tags)[store.MetaFingerprint], name, n)
	if len(d.VersionIdsToStages[id]) == 0 {
		return nil, nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	out, err := s.c.GetSecretValue(cctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(id)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("aws secrets manager read %s version %d: %w", name, n, err)
	}
	return decode(name, aws.ToString(out.SecretString))
}

// WriteNext writes data as version cas+1 and moves AWSCURRENT to it in the
// same call (PutSecretValue without stages; AWS puts AWSPREVIOUS on the
// version it leaves), so no crash leaves a new value that is not current.
// It fails when AWSCURRENT is not on version cas: another writer moved on.
func (s *Store) WriteNext(ctx context.Context, name string, cas int, data map[string]string) (int, error) {
	sec, err := s.Secret(ctx, name)
	if err != nil {
		return 0, err
	}
	if sec.Current != cas {
		return 0, fmt.Errorf("aws secrets manager write %s: AWSCURRENT is on version %d, not %d: someone else changed it", name, sec.Current, cas)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("aws secrets manager write %s: encoding: %w", name, err)
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	_, err = s.c.PutSecretValue(cctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name),
		ClientRequestToken: aws.String(VersionID(sec.Metadata[store.MetaFingerprint], name, cas+1)), SecretString: aws.String(string(b))})
	cancel()
	if err != nil {
		return 0, fmt.Errorf("aws secrets manager write %s version %d: %w", name, cas+1, err)
	}
	return cas + 1, nil
}

// Destroy takes every staging label off version n (PUSHVAULT_EXPOSED,
// AWSPREVIOUS), which makes it deprecated: no stage reaches it and AWS
// deletes it with its other deprecated versions. Secrets Manager has no
// call that erases one version's value at once; the value itself is dead
// by then (rotated and checked). It refuses the current version.
func (s *Store) Destroy(ctx context.Context, name string, n int) error {
	d, err := s.describe(ctx, name)
	if err != nil {
		return err
	}
	id := VersionID(tagMap(d.Tags)[store.MetaFingerprint], name, n)
	stages := d.VersionIdsToStages[id]
	if slices.Contains(stages, labelCurrent) {
		return fmt.Errorf("aws secrets manager destroy %s version %d: it is the current version", name, n)
	}
	for _, st := range stages {
		if err := s.label(ctx, name, st, "", id); err != nil {
			return err
		}
	}
	return nil
}

// label moves stage to version to (none: "") from version from (none: "").
func (s *Store) label(ctx context.Context, name, stage, to, from string) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name), VersionStage: aws.String(stage)}
	if to != "" {
		in.MoveToVersionId = aws.String(to)
	}
	if from != "" {
		in.RemoveFromVersionId = aws.String(from)
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	_, err := s.c.UpdateSecretVersionStage(cctx, in)
	cancel()
	if err != nil {
		return fmt.Errorf("aws secrets manager stage %s of %s: %w", stage, name, err)
	}
	return nil
}

func (s *Store) describe(ctx context.Context, name string) (*secretsmanager.DescribeSecretOutput, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	d, err := s.c.DescribeSecret(cctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("aws secrets manager describe %s: %w", name, err)
	}
	return d, nil
}

// name fills the template, each segment made safe as the Vault store's
// paths are (store.Name).
func (s *Store) name(owner, repo, name string) string {
	return store.Name(s.template, owner, repo, name)
}

// encode is the secret's value: a JSON object of its keys (sorted, so a
// retried write sends the same bytes).
func encode(data map[string]scanner.Secret) (string, error) {
	m := make(map[string]string, len(data))
	for k, v := range data {
		m[k] = v.Reveal()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", errors.New("aws secrets manager put: encoding the value failed")
	}
	return string(b), nil
}

// decode reads a value encode wrote. Errors never quote the value.
func decode(name, s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("aws secrets manager read %s: the value is not a JSON object of strings", name)
	}
	return m, nil
}

// maxTagValue is the longest tag value AWS accepts, in characters.
const maxTagValue = 256

// metaValue is v fit for the secret's description, for people: runs of
// white space become one space and the ends are trimmed, any character
// but letters, digits, spaces and _ . : / = + - @ becomes '_', a value
// longer than 256 characters is cut and ends in "...". Values may come from
// a pusher, so none may make the write fail.
func metaValue(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	v = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || r == ' ' || strings.ContainsRune("_.:/=+-@", r) {
			return r
		}
		return '_'
	}, v)
	if rs := []rune(v); len(rs) > maxTagValue {
		v = string(rs[:maxTagValue-3]) + "..."
	}
	return v
}

// tagValue is v as a Secrets Manager tag value accepts it (at most 256
// letters, digits, spaces and _ . : / = + - @), reversibly: '+' and every
// other character (white space but ' ' included) are written as +XX, one
// per UTF-8 byte, which untag undoes. So what pushvault reads back is what
// it wrote: the rotation's references (path#key,...) and a pusher's odd
// file path alike. Only a value longer than a tag holds is cut, at a
// character, ending in "...".
func tagValue(v string) string {
	var units []string // one per character of v, escaped
	for _, r := range v {
		u := string(r)
		if r == '+' || !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == ' ' || strings.ContainsRune("_.:/=-@", r)) {
			u = ""
			for _, c := range []byte(string(r)) {
				u += fmt.Sprintf("+%02X", c)
			}
		}
		units = append(units, u)
	}
	out := strings.Join(units, "")
	if utf8.RuneCountInString(out) <= maxTagValue {
		return out
	}
	var b strings.Builder
	room := maxTagValue - 3
	for _, u := range units {
		c := utf8.RuneCountInString(u)
		if c > room {
			break
		}
		b.WriteString(u)
		room -= c
	}
	return b.String() + "..."
}

// untag undoes tagValue's escapes; a '+' not followed by two hex digits
// (a tag someone else wrote) stays as it is.
func untag(v string) string {
	if !strings.Contains(v, "+") {
		return v
	}
	var b []byte
	for i := 0; i < len(v); i++ {
		if v[i] == '+' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			x, _ := strconv.ParseUint(v[i+1:i+3], 16, 8)
			b = append(b, byte(x))
			i += 2
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

// tags are md as tags, sorted by key; values escaped (tagValue).
func tags(md map[string]string) []types.Tag {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tagValue(md[k]))})
	}
	return out
}

// tagMap is the metadata tags hold, unescaped; an empty tag is a removed
// key.
func tagMap(ts []types.Tag) map[string]string {
	md := make(map[string]string, len(ts))
	for _, t := range ts {
		if v := aws.ToString(t.Value); v != "" {
			md[aws.ToString(t.Key)] = untag(v)
		}
	}
	return md
}

// Region is the region the store writes to.
func (s *Store) Region() string { return s.region }
