package awstest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Secrets Manager's staging labels that it moves itself.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// secret is a Secrets Manager secret.
type secret struct {
	name, arn, description, kmsKeyID string
	created, changed                 time.Time
	deleted                          time.Time // zero unless scheduled for deletion
	deletion                         time.Time // when it would be gone
	tags                             []tag
	versions                         []*version // oldest first
}

// version is one version of a secret; its id is the ClientRequestToken
// that made it.
type version struct {
	id      string
	str     *string
	bin     []byte
	stages  []string
	created time.Time
}

// sameValue reports whether v holds exactly the value in.
func (v *version) sameValue(str *string, bin []byte) bool {
	if (v.str == nil) != (str == nil) || (v.bin == nil) != (bin == nil) {
		return false
	}
	if str != nil && *v.str != *str {
		return false
	}
	return bytes.Equal(v.bin, bin)
}

// maxDeprecated is how many versions without a staging label Secrets
// Manager keeps; it removes the oldest beyond that.
const maxDeprecated = 100

// secretNotFound is Secrets Manager's answer for an unknown secret.
var secretNotFound = clientErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")

var markedForDeletion = clientErr(400, "InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")

// findSecret resolves a SecretId (a name or an ARN, full or without its
// random suffix, as Secrets Manager accepts); s.mu is held.
func (s *Server) findSecret(c *call) (*secret, error) {
	id, _ := c.in["SecretId"].(string)
	if sec := s.secrets[id]; sec != nil {
		return sec, nil
	}
	for _, sec := range s.secrets {
		if sec.arn == id {
			return sec, nil
		}
	}
	return nil, secretNotFound
}

// liveSecret is findSecret refusing a secret scheduled for deletion.
func (s *Server) liveSecret(c *call) (*secret, error) {
	sec, err := s.findSecret(c)
	if err != nil {
		return nil, err
	}
	if !sec.deleted.IsZero() {
		return nil, markedForDeletion
	}
	return sec, nil
}

// valueOf reads SecretString/SecretBinary: exactly one is required.
func valueOf(c *call, required bool) (*string, []byte, error) {
	str, hasStr := c.in["SecretString"].(string)
	bin, hasBin := c.in["SecretBinary"].([]byte)
	switch {
	case hasStr && hasBin:
		return nil, nil, clientErr(400, "InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	case !hasStr && !hasBin && required:
		return nil, nil, clientErr(400, "InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	case len(str) > 65536 || len(bin) > 65536:
		return nil, nil, clientErr(400, "InvalidParameterException", "The secret value exceeds the 65536 bytes Secrets Manager allows.")
	case hasStr:
		return &str, nil, nil
	case hasBin:
		return nil, bin, nil
	}
	return nil, nil, nil
}

// requestToken is the ClientRequestToken (the new version's id): 32 to 64
// characters, as documented; the SDKs fill in a UUID when the caller gives
// none.
func requestToken(c *call) (string, bool, error) {
	tok, ok := c.in["ClientRequestToken"].(string)
	if !ok {
		return "", false, nil
	}
	if len(tok) < 32 || len(tok) > 64 {
		return "", false, clientErr(400, "InvalidParameterException", "ClientRequestToken must be 32 to 64 characters long.")
	}
	return tok, true, nil
}

func (sec *secret) version(id string) *version {
	for _, v := range sec.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (sec *secret) staged(label string) *version {
	for _, v := range sec.versions {
		if slices.Contains(v.stages, label) {
			return v
		}
	}
	return nil
}

// moveLabel attaches label to to, removing it from whichever version held
// it; moving AWSCURRENT gives the version that held it AWSPREVIOUS (taken
// from whichever held that), as Secrets Manager does.
func (sec *secret) moveLabel(label string, to *version) {
	from := sec.staged(label)
	if from == to {
		return
	}
	if from != nil {
		from.stages = slices.DeleteFunc(from.stages, func(l string) bool { return l == label })
	}
	to.stages = append(to.stages, label)
	if label == stageCurrent && from != nil {
		if p := sec.staged(stagePrevious); p != nil {
			p.stages = slices.DeleteFunc(p.stages, func(l string) bool { return l == stagePrevious })
		}
		from.stages = append(from.stages, stagePrevious)
	}
}

// prune drops the oldest versions without a label beyond maxDeprecated.
func (sec *secret) prune() {
	n := 0
	for _, v := range sec.versions {
		if len(v.stages) == 0 {
			n++
		}
	}
	for i := 0; n > maxDeprecated && i < len(sec.versions); {
		if len(sec.versions[i].stages) == 0 {
			sec.versions = slices.Delete(sec.versions, i, i+1)
			n--
			continue
		}
		i++
	}
}

// addVersion records a new version carrying stages (AWSCURRENT when none
// are given).
func (sec *secret) addVersion(id string, str *string, bin []byte, stages []string, now time.Time) *version {
	v := &version{id: id, str: str, bin: bin, created: now}
	sec.versions = append(sec.versions, v)
	if len(stages) == 0 {
		stages = []string{stageCurrent}
	}
	for _, l := range stages {
		sec.moveLabel(l, v)
	}
	sec.changed = now
	sec.prune()
	return v
}

func stagesOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// createSecret answers CreateSecret. A secret with the name already
// exists: with this request's token and the same value, the call was a
// retry and is answered as the first was; otherwise it is refused
// (ResourceExistsException), or InvalidRequestException while the name
// is held by a secret scheduled for deletion.
func (s *Server) createSecret(c *call) (map[string]any, error) {
	name, _ := c.in["Name"].(string)
	if name == "" || len(name) > 512 {
		return nil, clientErr(400, "InvalidParameterException", "Name must be 1 to 512 characters long.")
	}
	str, bin, err := valueOf(c, false)
	if err != nil {
		return nil, err
	}
	tok, hasTok, err := requestToken(c)
	if err != nil {
		return nil, err
	}
	if (str != nil || bin != nil) && !hasTok {
		tok = newRequestID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.secrets[name]; sec != nil {
		if !sec.deleted.IsZero() {
			return nil, clientErr(400, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		if v := sec.version(tok); hasTok && v != nil && v.sameValue(str, bin) {
			return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id}, nil
		}
		return nil, clientErr(400, "ResourceExistsException", fmt.Sprintf("The operation failed because the secret %s already exists.", name))
	}
	tags := treeTags(c.in["Tags"])
	if len(tags) > 50 {
		return nil, clientErr(400, "InvalidParameterException", "A secret can have at most 50 tags.")
	}
	sec := &secret{
		name:    name,
		arn:     fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, name, randSuffix()),
		created: c.now, changed: c.now,
		tags: tags,
	}
	sec.description, _ = c.in["Description"].(string)
	sec.kmsKeyID, _ = c.in["KmsKeyId"].(string)
	s.secrets[name] = sec
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if str != nil || bin != nil {
		v := sec.addVersion(tok, str, bin, nil, c.now)
		out["VersionId"] = v.id
	}
	return out, nil
}

// randSuffix is the six random characters Secrets Manager appends to a
// secret's ARN.
func randSuffix() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	id := randID("", 6)
	b := []byte(id)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// putSecretValue answers PutSecretValue with AWS's documented
// idempotency: a ClientRequestToken naming an existing version with the
// same value is ignored (answered as the first call was); with a
// different value it is refused (ResourceExistsException); a new token
// makes a version, AWSCURRENT unless VersionStages says otherwise.
func (s *Server) putSecretValue(c *call) (map[string]any, error) {
	str, bin, err := valueOf(c, true)
	if err != nil {
		return nil, err
	}
	tok, hasTok, err := requestToken(c)
	if err != nil {
		return nil, err
	}
	if !hasTok {
		tok = newRequestID()
	}
	stages := stagesOf(c.in["VersionStages"])
	if len(stages) > 20 {
		return nil, clientErr(400, "InvalidParameterException", "A version can have at most 20 staging labels.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.liveSecret(c)
	if err != nil {
		return nil, err
	}
	if v := sec.version(tok); v != nil {
		if !v.sameValue(str, bin) {
			return nil, clientErr(400, "ResourceExistsException", "You can't modify an existing version, you can only create new versions.")
		}
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": slices.Clone(v.stages)}, nil
	}
	v := sec.addVersion(tok, str, bin, stages, c.now)
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": slices.Clone(v.stages)}, nil
}

// getSecretValue answers GetSecretValue by VersionId, VersionStage (both
// must then name the same version) or AWSCURRENT.
func (s *Server) getSecretValue(c *call) (map[string]any, error) {
	id, hasID := c.in["VersionId"].(string)
	stage, hasStage := c.in["VersionStage"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.liveSecret(c)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case hasID:
		v = sec.version(id)
		if v != nil && hasStage && !slices.Contains(v.stages, stage) {
			v = nil
		}
	case hasStage:
		v = sec.staged(stage)
	default:
		v = sec.staged(stageCurrent)
	}
	if v == nil {
		return nil, clientErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for the requested VersionId or VersionStage.")
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": slices.Clone(v.stages), "CreatedDate": v.created}
	if v.str != nil {
		out["SecretString"] = *v.str
	}
	if v.bin != nil {
		out["SecretBinary"] = slices.Clone(v.bin)
	}
	return out, nil
}

// describeSecret answers DescribeSecret, also for a secret scheduled for
// deletion (with its DeletedDate).
func (s *Server) describeSecret(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.findSecret(c)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"ARN": sec.arn, "Name": sec.name,
		"CreatedDate": sec.created, "LastChangedDate": sec.changed,
		"RotationEnabled": false,
	}
	if sec.description != "" {
		out["Description"] = sec.description
	}
	if sec.kmsKeyID != "" {
		out["KmsKeyId"] = sec.kmsKeyID
	}
	if len(sec.tags) > 0 {
		out["Tags"] = tagsTree(sec.tags)
	}
	if !sec.deleted.IsZero() {
		out["DeletedDate"] = sec.deleted
	}
	stages := map[string]any{}
	for _, v := range sec.versions {
		if len(v.stages) > 0 {
			stages[v.id] = slices.Clone(v.stages)
		}
	}
	if len(stages) > 0 {
		out["VersionIdsToStages"] = stages
	}
	return out, nil
}

// updateSecretVersionStage answers UpdateSecretVersionStage: the label
// moves from RemoveFromVersionId (which must hold it) to MoveToVersionId;
// a label held elsewhere cannot be moved without naming its holder.
func (s *Server) updateSecretVersionStage(c *call) (map[string]any, error) {
	label, _ := c.in["VersionStage"].(string)
	fromID, hasFrom := c.in["RemoveFromVersionId"].(string)
	toID, hasTo := c.in["MoveToVersionId"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.liveSecret(c)
	if err != nil {
		return nil, err
	}
	holder := sec.staged(label)
	if hasFrom {
		from := sec.version(fromID)
		if from == nil || from != holder {
			return nil, clientErr(400, "InvalidParameterException", fmt.Sprintf("The staging label %s is not attached to the version specified in RemoveFromVersionId.", label))
		}
	}
	if !hasTo {
		if !hasFrom {
			return nil, clientErr(400, "InvalidParameterException", "You must specify MoveToVersionId or RemoveFromVersionId.")
		}
		if label == stageCurrent {
			return nil, clientErr(400, "InvalidParameterException", "You can't remove the staging label AWSCURRENT; move it to another version instead.")
		}
		holder.stages = slices.DeleteFunc(holder.stages, func(l string) bool { return l == label })
		sec.changed = c.now
		return map[string]any{"ARN": sec.arn, "Name": sec.name}, nil
	}
	to := sec.version(toID)
	if to == nil {
		return nil, clientErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret version.")
	}
	if holder != nil && holder != to && !hasFrom {
		return nil, clientErr(400, "InvalidParameterException", fmt.Sprintf("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", label, holder.id))
	}
	if len(to.stages) >= 20 && !slices.Contains(to.stages, label) {
		return nil, clientErr(400, "LimitExceededException", "A version can have at most 20 staging labels.")
	}
	sec.moveLabel(label, to)
	sec.changed = c.now
	sec.prune()
	return map[string]any{"ARN": sec.arn, "Name": sec.name}, nil
}

// tagResource answers TagResource: tags are added, or replaced by key.
func (s *Server) tagResource(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.liveSecret(c)
	if err != nil {
		return nil, err
	}
	tags := mergeTags(slices.Clone(sec.tags), treeTags(c.in["Tags"]))
	if len(tags) > 50 {
		return nil, clientErr(400, "InvalidParameterException", "A secret can have at most 50 tags.")
	}
	sec.tags = tags
	return nil, nil
}

// listSecretVersionIds answers ListSecretVersionIds (versions without a
// label only with IncludeDeprecated), MaxResults 1-100 with NextToken.
func (s *Server) listSecretVersionIds(c *call) (map[string]any, error) {
	max := int64(100)
	if n, ok := c.in["MaxResults"].(int64); ok {
		if n < 1 || n > 100 {
			return nil, clientErr(400, "InvalidParameterException", "MaxResults must be between 1 and 100.")
		}
		max = n
	}
	all, _ := c.in["IncludeDeprecated"].(bool)
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.liveSecret(c)
	if err != nil {
		return nil, err
	}
	var vs []*version
	for _, v := range sec.versions {
		if all || len(v.stages) > 0 {
			vs = append(vs, v)
		}
	}
	from := 0
	if tok, ok := c.in["NextToken"].(string); ok {
		i, perr := strconv.Atoi(strings.TrimPrefix(tok, "v"))
		if perr != nil || i < 0 || i > len(vs) {
			return nil, clientErr(400, "InvalidNextTokenException", "The NextToken value is invalid.")
		}
		from = i
	}
	to := min(len(vs), from+int(max))
	list := []any{}
	for _, v := range vs[from:to] {
		e := map[string]any{"VersionId": v.id, "CreatedDate": v.created}
		if len(v.stages) > 0 {
			e["VersionStages"] = slices.Clone(v.stages)
		}
		list = append(list, e)
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "Versions": list}
	if to < len(vs) {
		out["NextToken"] = "v" + strconv.Itoa(to)
	}
	return out, nil
}

// deleteSecret answers DeleteSecret: scheduled for deletion after the
// recovery window (7-30 days, default 30), or removed at once with
// ForceDeleteWithoutRecovery (not both).
func (s *Server) deleteSecret(c *call) (map[string]any, error) {
	force, _ := c.in["ForceDeleteWithoutRecovery"].(bool)
	days, hasDays := c.in["RecoveryWindowInDays"].(int64)
	if force && hasDays {
		return nil, clientErr(400, "InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	if !hasDays {
		days = 30
	}
	if days < 7 || days > 30 {
		return nil, clientErr(400, "InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.findSecret(c)
	if err != nil {
		return nil, err
	}
	if force {
		delete(s.secrets, sec.name)
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "DeletionDate": c.now}, nil
	}
	if !sec.deleted.IsZero() {
		return nil, markedForDeletion
	}
	sec.deleted = c.now
	sec.deletion = c.now.Add(time.Duration(days) * 24 * time.Hour)
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "DeletionDate": sec.deletion}, nil
}

// SecretVersion is a version of a secret as a test sees it: no value.
type SecretVersion struct {
	VersionID string
	Stages    []string
	Created   time.Time
}

// SecretInfo is a secret as a test sees it: no values.
type SecretInfo struct {
	Name, ARN string
	KmsKeyID  string
	Tags      map[string]string
	Versions  []SecretVersion // oldest first, deprecated ones included
	Deleted   bool            // scheduled for deletion
}

// Secret returns a secret by name; false when there is none (or it was
// force-deleted).
func (s *Server) Secret(name string) (SecretInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[name]
	if sec == nil {
		return SecretInfo{}, false
	}
	info := SecretInfo{Name: sec.name, ARN: sec.arn, KmsKeyID: sec.kmsKeyID, Tags: map[string]string{}, Deleted: !sec.deleted.IsZero()}
	for _, t := range sec.tags {
		info.Tags[t.key] = t.value
	}
	for _, v := range sec.versions {
		info.Versions = append(info.Versions, SecretVersion{VersionID: v.id, Stages: slices.Clone(v.stages), Created: v.created})
	}
	return info, true
}

// SecretNames lists the secrets (scheduled for deletion too), sorted.
func (s *Server) SecretNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.secrets))
	for n := range s.secrets {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
