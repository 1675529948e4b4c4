package awstest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// IAM's documented errors.
func noSuchUser(name string) error {
	return clientErr(404, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name))
}

func noSuchKey(id string) error {
	return clientErr(404, "NoSuchEntity", fmt.Sprintf("The Access Key with id %s cannot be found.", id))
}

// targetUser is the user an IAM request names in UserName, or, when it
// names none, the user whose key signed it (IAM's documented default);
// s.mu is held.
func (s *Server) targetUser(c *call) (*user, error) {
	name, ok := c.in["UserName"].(string)
	if !ok {
		if c.caller.key != nil {
			return c.caller.key.user, nil
		}
		if c.caller.sess != nil && c.caller.sess.user != nil {
			return c.caller.sess.user, nil
		}
		return nil, clientErr(400, "ValidationError", "Must specify userName when calling with non-User credentials")
	}
	u := s.users[name]
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

func (s *Server) userTree(u *user) map[string]any {
	out := map[string]any{
		"Path":       u.path,
		"UserName":   u.name,
		"UserId":     u.id,
		"Arn":        s.userARN(u),
		"CreateDate": u.created,
	}
	if len(u.tags) > 0 {
		out["Tags"] = tagsTree(u.tags)
	}
	return out
}

func tagsTree(tags []tag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = map[string]any{"Key": t.key, "Value": t.value}
	}
	return out
}

func (s *Server) getUser(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": s.userTree(u)}, nil
}

// page applies IAM's Marker/MaxItems pagination (MaxItems 1-1000, default
// 100; the marker is the stand-in's own opaque offset) to n items.
func page(c *call, n int) (from, to int, next string, err error) {
	max := int64(100)
	if v, ok := c.in["MaxItems"].(int64); ok {
		if v < 1 || v > 1000 {
			return 0, 0, "", clientErr(400, "ValidationError", "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
		}
		max = v
	}
	if m, ok := c.in["Marker"].(string); ok {
		i, perr := strconv.Atoi(m)
		if perr != nil || i < 0 || i > n {
			return 0, 0, "", clientErr(400, "ValidationError", "Invalid Marker")
		}
		from = i
	}
	to = min(n, from+int(max))
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func paged(out map[string]any, next string) map[string]any {
	out["IsTruncated"] = next != ""
	if next != "" {
		out["Marker"] = next
	}
	return out
}

func (s *Server) listAccessKeys(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(c, len(u.keys))
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, k := range u.keys[from:to] {
		list = append(list, map[string]any{"UserName": u.name, "AccessKeyId": k.id, "Status": k.status, "CreateDate": k.created})
	}
	return paged(map[string]any{"AccessKeyMetadata": list}, next), nil
}

func (s *Server) createAccessKey(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	k, err := s.newKey(u, c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"AccessKey": map[string]any{
		"UserName":        u.name,
		"AccessKeyId":     k.id,
		"Status":          k.status,
		"SecretAccessKey": k.secret,
		"CreateDate":      k.created,
	}}, nil
}

// userKey finds a key of the target user; s.mu is held.
func (s *Server) userKey(c *call) (*user, *accessKey, error) {
	u, err := s.targetUser(c)
	if err != nil {
		return nil, nil, err
	}
	id, _ := c.in["AccessKeyId"].(string)
	for _, k := range u.keys {
		if k.id == id {
			return u, k, nil
		}
	}
	return nil, nil, noSuchKey(id)
}

func (s *Server) updateAccessKey(c *call) (map[string]any, error) {
	status, _ := c.in["Status"].(string)
	if status != statusActive && status != statusInactive {
		return nil, clientErr(400, "ValidationError", "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, k, err := s.userKey(c)
	if err != nil {
		return nil, err
	}
	k.status = status
	return nil, nil
}

func (s *Server) deleteAccessKey(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, k, err := s.userKey(c)
	if err != nil {
		return nil, err
	}
	k.deleted = true
	u.keys = slices.DeleteFunc(u.keys, func(x *accessKey) bool { return x == k })
	return nil, nil
}

// userName is IAM's documented user name: 1-64 of [\w+=,.@-].
func validUserName(n string) bool {
	return len(n) >= 1 && len(n) <= 64 && roleSessionNameChars(n)
}

func roleSessionNameChars(n string) bool {
	for _, r := range n {
		if !(r == '_' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func (s *Server) createUser(c *call) (map[string]any, error) {
	name, _ := c.in["UserName"].(string)
	if !validUserName(name) {
		return nil, clientErr(400, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	path := "/"
	if p, ok := c.in["Path"].(string); ok {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
			return nil, clientErr(400, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
		}
		path = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[name] != nil {
		return nil, clientErr(409, "EntityAlreadyExists", fmt.Sprintf("User with name %s already exists.", name))
	}
	u := s.newUser(name, path, c.now)
	u.tags = treeTags(c.in["Tags"])
	return map[string]any{"User": s.userTree(u)}, nil
}

func treeTags(v any) []tag {
	l, _ := v.([]any)
	var out []tag
	for _, e := range l {
		m, _ := e.(map[string]any)
		k, _ := m["Key"].(string)
		val, _ := m["Value"].(string)
		out = append(out, tag{k, val})
	}
	return out
}

// mergeTags adds or replaces tags by key.
func mergeTags(have, add []tag) []tag {
	for _, t := range add {
		i := slices.IndexFunc(have, func(x tag) bool { return x.key == t.key })
		if i >= 0 {
			have[i] = t
		} else {
			have = append(have, t)
		}
	}
	return have
}

func (s *Server) tagUser(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	tags := mergeTags(u.tags, treeTags(c.in["Tags"]))
	if len(tags) > 50 {
		return nil, clientErr(409, "LimitExceeded", "Cannot exceed quota for TagsPerUser: 50")
	}
	u.tags = tags
	return nil, nil
}

func (s *Server) putUserPolicy(c *call) (map[string]any, error) {
	name, _ := c.in["PolicyName"].(string)
	doc, _ := c.in["PolicyDocument"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	u.inline[name] = doc
	return nil, nil
}

func (s *Server) deleteUserPolicy(c *call) (map[string]any, error) {
	name, _ := c.in["PolicyName"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	if _, ok := u.inline[name]; !ok {
		return nil, clientErr(404, "NoSuchEntity", fmt.Sprintf("The user policy with name %s cannot be found.", name))
	}
	delete(u.inline, name)
	return nil, nil
}

func (s *Server) listUserPolicies(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(u.inline))
	for n := range u.inline {
		names = append(names, n)
	}
	slices.Sort(names)
	from, to, next, err := page(c, len(names))
	if err != nil {
		return nil, err
	}
	return paged(map[string]any{"PolicyNames": names[from:to]}, next), nil
}

// validPolicyARN accepts an AWS-managed or this account's managed policy.
func (s *Server) validPolicyARN(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") || strings.HasPrefix(arn, "arn:aws:iam::"+s.account+":policy/")
}

func (s *Server) attachUserPolicy(c *call) (map[string]any, error) {
	arn, _ := c.in["PolicyArn"].(string)
	if !s.validPolicyARN(arn) {
		return nil, clientErr(400, "InvalidInput", fmt.Sprintf("ARN %s is not valid.", arn))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(u.attached, arn) {
		u.attached = append(u.attached, arn)
	}
	return nil, nil
}

func (s *Server) detachUserPolicy(c *call) (map[string]any, error) {
	arn, _ := c.in["PolicyArn"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	i := slices.Index(u.attached, arn)
	if i < 0 {
		return nil, clientErr(404, "NoSuchEntity", fmt.Sprintf("Policy %s was not found.", arn))
	}
	u.attached = slices.Delete(u.attached, i, i+1)
	return nil, nil
}

func (s *Server) listAttachedUserPolicies(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(c, len(u.attached))
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, arn := range u.attached[from:to] {
		list = append(list, map[string]any{"PolicyName": arn[strings.LastIndexByte(arn, '/')+1:], "PolicyArn": arn})
	}
	return paged(map[string]any{"AttachedPolicies": list}, next), nil
}

func (s *Server) addUserToGroup(c *call) (map[string]any, error) {
	g, _ := c.in["GroupName"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	if s.groups[g] == nil {
		return nil, clientErr(404, "NoSuchEntity", fmt.Sprintf("The group with name %s cannot be found.", g))
	}
	if !slices.Contains(u.groups, g) {
		u.groups = append(u.groups, g)
	}
	return nil, nil
}

func (s *Server) removeUserFromGroup(c *call) (map[string]any, error) {
	g, _ := c.in["GroupName"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	i := slices.Index(u.groups, g)
	if i < 0 {
		return nil, clientErr(404, "NoSuchEntity", fmt.Sprintf("The group with name %s cannot be found.", g))
	}
	u.groups = slices.Delete(u.groups, i, i+1)
	return nil, nil
}

func (s *Server) listGroupsForUser(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(c, len(u.groups))
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, name := range u.groups[from:to] {
		g := s.groups[name]
		list = append(list, map[string]any{
			"Path": g.path, "GroupName": g.name, "GroupId": g.id,
			"Arn":        fmt.Sprintf("arn:aws:iam::%s:group%s%s", s.account, g.path, g.name),
			"CreateDate": u.created,
		})
	}
	return paged(map[string]any{"Groups": list}, next), nil
}

// deleteUser answers IAM DeleteUser, which refuses a user that still has
// access keys, policies or groups (DeleteConflict), as IAM does.
func (s *Server) deleteUser(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.targetUser(c)
	if err != nil {
		return nil, err
	}
	switch {
	case len(u.keys) > 0:
		return nil, clientErr(409, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	case len(u.inline) > 0 || len(u.attached) > 0:
		return nil, clientErr(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	case len(u.groups) > 0:
		return nil, clientErr(409, "DeleteConflict", "Cannot delete entity, must remove users from group first.")
	}
	delete(s.users, u.name)
	return nil, nil
}
