package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"time"
)

var shaRE = func(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// objectType is git's type of sha in rs, or "" when it is missing.
func (s *Server) objectType(rs *repoState, sha string) string {
	if !shaRE(sha) {
		return ""
	}
	t, err := s.git(rs, nil, "cat-file", "-t", sha)
	if err != nil {
		return ""
	}
	return t
}

func (s *Server) createBlob(c *call) (int, any, error) {
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Content == nil {
		return 0, nil, validationFailed("Invalid request.\n\n\"content\" wasn't supplied.")
	}
	data := []byte(*req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		d, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(*req.Content, "\n", ""))
		if err != nil {
			return 0, nil, validationFailed("Invalid request.\n\ncontent is not valid Base64")
		}
		data = d
	default:
		return 0, nil, validationFailed("Invalid request.\n\nencoding must be utf-8 or base64")
	}
	sha, err := s.git(c.repo, data, "hash-object", "-w", "--stdin")
	if err != nil {
		return 0, nil, err
	}
	return 201, obj{"sha": sha, "url": s.apiURL(c.repo, "git/blobs/"+sha)}, nil
}

func (s *Server) apiURL(rs *repoState, p string) string {
	return s.URL + "/repos/" + rs.full() + "/" + p
}

func (s *Server) htmlURL(rs *repoState, p string) string {
	return s.URL + "/" + rs.full() + "/" + p
}

// blobBytes is a blob's exact content.
func blobBytes(rs *repoState, sha string) ([]byte, error) {
	cmd := exec.Command("git", "cat-file", "blob", sha)
	cmd.Env = append(gitEnv(), "GIT_DIR="+rs.dir)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file blob %s: %w", sha, err)
	}
	return out, nil
}

func exec0(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = gitEnv()
	return cmd.Run()
}

func (s *Server) getBlob(c *call) (int, any, error) {
	sha := c.params["file_sha"]
	if s.objectType(c.repo, sha) != "blob" {
		return 0, nil, notFound()
	}
	data, err := blobBytes(c.repo, sha)
	if err != nil {
		return 0, nil, err
	}
	return 200, obj{"sha": sha, "node_id": nodeID("Blob", int64(len(sha))), "size": len(data),
		"url": s.apiURL(c.repo, "git/blobs/"+sha), "content": wrap64(data), "encoding": "base64"}, nil
}

// wrap64 is base64 in 60-column lines, as GitHub sends blob contents.
func wrap64(b []byte) string {
	e := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(e) > 60 {
		sb.WriteString(e[:60] + "\n")
		e = e[60:]
	}
	sb.WriteString(e + "\n")
	return sb.String()
}

type treeEntry struct {
	Path    string          `json:"path"`
	Mode    string          `json:"mode"`
	Type    string          `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

func (s *Server) createTree(c *call) (int, any, error) {
	var req struct {
		BaseTree string      `json:"base_tree"`
		Tree     []treeEntry `json:"tree"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	idx, err := os.CreateTemp("", "standin-index-")
	if err != nil {
		return 0, nil, err
	}
	idx.Close()
	os.Remove(idx.Name())
	defer os.Remove(idx.Name())
	env := []string{"GIT_INDEX_FILE=" + idx.Name()}
	if req.BaseTree != "" {
		if t := s.objectType(c.repo, req.BaseTree); t != "tree" && t != "commit" {
			return 0, nil, validationFailed("Invalid request.\n\nbase_tree is not a valid tree")
		}
		if _, err := s.gitEnv(c.repo, env, nil, "read-tree", req.BaseTree); err != nil {
			return 0, nil, err
		}
	}
	for _, e := range req.Tree {
		if e.Path == "" || strings.HasPrefix(e.Path, "/") {
			return 0, nil, validationFailed("Invalid request.\n\ntree.path is invalid")
		}
		sha := ""
		null := string(e.SHA) == "null"
		if len(e.SHA) > 0 && !null {
			if err := json.Unmarshal(e.SHA, &sha); err != nil {
				return 0, nil, validationFailed("Invalid request.\n\ntree.sha is not a string")
			}
		}
		switch {
		case null:
			if _, err := s.gitEnv(c.repo, env, nil, "update-index", "--force-remove", "--", e.Path); err != nil {
				return 0, nil, err
			}
			continue
		case e.Content != nil:
			sha, err = s.git(c.repo, []byte(*e.Content), "hash-object", "-w", "--stdin")
			if err != nil {
				return 0, nil, err
			}
		}
		want := map[string]string{"100644": "blob", "100755": "blob", "120000": "blob", "160000": "commit"}[e.Mode]
		if want == "" || e.Type != want {
			return 0, nil, validationFailed(fmt.Sprintf("Invalid request.\n\nmode %q with type %q is not supported here", e.Mode, e.Type))
		}
		if want == "blob" && s.objectType(c.repo, sha) != "blob" {
			return 0, nil, validationFailed("Invalid request.\n\ntree.sha " + sha + " is not a valid blob")
		}
		if _, err := s.gitEnv(c.repo, env, nil, "update-index", "--add", "--cacheinfo", e.Mode+","+sha+","+e.Path); err != nil {
			return 0, nil, validationFailed("Invalid request.\n\n" + err.Error())
		}
	}
	tree, err := s.gitEnv(c.repo, env, nil, "write-tree")
	if err != nil {
		return 0, nil, err
	}
	o, err := s.treeObject(c.repo, tree, false)
	return 201, o, err
}

func (s *Server) treeObject(rs *repoState, sha string, recursive bool) (obj, error) {
	args := []string{"ls-tree", "-l", "-z"}
	if recursive {
		args = append(args, "-r", "-t")
	}
	out, err := s.git(rs, nil, append(args, sha)...)
	if err != nil {
		return nil, err
	}
	entries := []obj{}
	for _, l := range strings.Split(out, "\x00") {
		meta, p, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		e := obj{"path": p, "mode": f[0], "type": f[1], "sha": f[2]}
		switch f[1] {
		case "blob":
			n, _ := strconv.Atoi(f[3])
			e["size"] = n
			e["url"] = s.apiURL(rs, "git/blobs/"+f[2])
		case "tree":
			e["url"] = s.apiURL(rs, "git/trees/"+f[2])
		}
		entries = append(entries, e)
	}
	return obj{"sha": sha, "url": s.apiURL(rs, "git/trees/"+sha), "tree": entries, "truncated": false}, nil
}

func (s *Server) getTree(c *call) (int, any, error) {
	sha, err := s.git(c.repo, nil, "rev-parse", "--verify", "--quiet", c.params["tree_sha"]+"^{tree}")
	if err != nil {
		return 0, nil, notFound()
	}
	rec := c.r.URL.Query().Get("recursive")
	o, err := s.treeObject(c.repo, sha, rec != "" && rec != "0" && rec != "false")
	return 200, o, err
}

type gitPerson struct {
	Name  string     `json:"name"`
	Email string     `json:"email"`
	Date  *time.Time `json:"date"`
}

func (p *gitPerson) env(prefix string) []string {
	if p == nil {
		return nil
	}
	env := []string{"GIT_" + prefix + "_NAME=" + p.Name, "GIT_" + prefix + "_EMAIL=" + p.Email}
	if p.Date != nil {
		env = append(env, fmt.Sprintf("GIT_%s_DATE=%d %s", prefix, p.Date.Unix(), p.Date.Format("-0700")))
	}
	return env
}

func (s *Server) createCommit(c *call) (int, any, error) {
	var req struct {
		Message   string     `json:"message"`
		Tree      string     `json:"tree"`
		Parents   []string   `json:"parents"`
		Author    *gitPerson `json:"author"`
		Committer *gitPerson `json:"committer"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if s.objectType(c.repo, req.Tree) != "tree" {
		return 0, nil, validationFailed("Invalid request.\n\nTree SHA does not exist", map[string]string{"resource": "Commit", "field": "tree", "code": "invalid"})
	}
	args := []string{"commit-tree", req.Tree, "-m", req.Message}
	for _, p := range req.Parents {
		if s.objectType(c.repo, p) != "commit" {
			return 0, nil, validationFailed("Invalid request.\n\nParent SHA does not exist or is not a commit object", map[string]string{"resource": "Commit", "field": "parents", "code": "invalid"})
		}
		args = append(args, "-p", p)
	}
	env := s.botIdentity(s.now())
	env = append(env, req.Author.env("AUTHOR")...)
	if req.Committer != nil {
		env = append(env, req.Committer.env("COMMITTER")...)
	} else {
		env = append(env, req.Author.env("COMMITTER")...)
	}
	sha, err := s.gitEnv(c.repo, env, nil, args...)
	if err != nil {
		return 0, nil, err
	}
	o, err := s.gitCommitObject(c.repo, sha)
	return 201, o, err
}

func (s *Server) gitCommitObject(rs *repoState, sha string) (obj, error) {
	ci, err := s.commitInfo(rs, sha)
	if err != nil {
		return nil, err
	}
	parents := []obj{}
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": s.apiURL(rs, "git/commits/"+p), "html_url": s.htmlURL(rs, "commit/"+p)})
	}
	return obj{
		"sha": ci.sha, "node_id": nodeID("Commit", int64(len(ci.sha))), "url": s.apiURL(rs, "git/commits/"+ci.sha),
		"html_url":  s.htmlURL(rs, "commit/"+ci.sha),
		"author":    obj{"name": ci.authorName, "email": ci.authorEmail, "date": ts(ci.authorDate)},
		"committer": obj{"name": ci.commName, "email": ci.commEmail, "date": ts(ci.commDate)},
		"tree":      obj{"sha": ci.tree, "url": s.apiURL(rs, "git/trees/"+ci.tree)},
		"message":   ci.message, "parents": parents,
		"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	}, nil
}

func (s *Server) getGitCommit(c *call) (int, any, error) {
	sha := c.params["commit_sha"]
	if s.objectType(c.repo, sha) != "commit" {
		return 0, nil, notFound()
	}
	o, err := s.gitCommitObject(c.repo, sha)
	return 200, o, err
}

// moveRefs runs update under the repository's push lock and sends the
// push webhooks for whatever refs it moved, as GitHub does for ref
// changes made through the API.
func (s *Server) moveRefs(rs *repoState, in *Installation, update func() error) error {
	rs.push.Lock()
	before, err := s.refs(rs)
	if err != nil {
		rs.push.Unlock()
		return err
	}
	uerr := update()
	after, err := s.refs(rs)
	var events []obj
	if err == nil {
		events, err = s.pushEvents(rs, in, before, after)
	}
	rs.push.Unlock()
	if uerr != nil {
		return uerr
	}
	if err != nil {
		return err
	}
	s.deliverPush(rs, in, events)
	return nil
}

func (s *Server) refObject(rs *repoState, ref, sha string) obj {
	typ := s.objectType(rs, sha)
	kind := "commits"
	if typ == "tag" {
		kind = "tags"
	}
	return obj{"ref": ref, "node_id": nodeID("Ref", int64(len(ref))), "url": s.apiURL(rs, "git/"+ref),
		"object": obj{"type": typ, "sha": sha, "url": s.apiURL(rs, "git/"+kind+"/"+sha)}}
}

func (s *Server) resolveRef(rs *repoState, ref string) (string, bool) {
	out, err := s.git(rs, nil, "for-each-ref", "--format=%(objectname)", ref)
	if err != nil || out == "" || strings.Contains(out, "\n") {
		return "", false
	}
	return out, true
}

func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 {
		return false
	}
	return exec0("git", "check-ref-format", ref) == nil
}

func (s *Server) createRef(c *call) (int, any, error) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if !validRefName(req.Ref) {
		return 0, nil, validationFailed("Reference name is not valid")
	}
	if s.objectType(c.repo, req.SHA) == "" {
		return 0, nil, validationFailed("Object does not exist")
	}
	err := s.moveRefs(c.repo, c.inst, func() error {
		if _, ok := s.resolveRef(c.repo, req.Ref); ok {
			return validationFailed("Reference already exists")
		}
		_, err := s.git(c.repo, nil, "update-ref", req.Ref, req.SHA, "")
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return 201, s.refObject(c.repo, req.Ref, req.SHA), nil
}

func (s *Server) getRef(c *call) (int, any, error) {
	ref := "refs/" + c.params["ref"]
	sha, ok := s.resolveRef(c.repo, ref)
	if !ok {
		return 0, nil, notFound()
	}
	return 200, s.refObject(c.repo, ref, sha), nil
}

func (s *Server) updateRef(c *call) (int, any, error) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	ref := "refs/" + c.params["ref"]
	if s.objectType(c.repo, req.SHA) == "" {
		return 0, nil, validationFailed("Object does not exist")
	}
	err := s.moveRefs(c.repo, c.inst, func() error {
		old, ok := s.resolveRef(c.repo, ref)
		if !ok {
			return validationFailed("Reference does not exist")
		}
		if !req.Force {
			anc, err := s.isAncestor(c.repo, old, req.SHA)
			if err != nil {
				return err
			}
			if !anc {
				return validationFailed("Update is not a fast forward")
			}
		}
		_, err := s.git(c.repo, nil, "update-ref", ref, req.SHA, old)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return 200, s.refObject(c.repo, ref, req.SHA), nil
}

func (s *Server) deleteRef(c *call) (int, any, error) {
	ref := "refs/" + c.params["ref"]
	err := s.moveRefs(c.repo, c.inst, func() error {
		old, ok := s.resolveRef(c.repo, ref)
		if !ok {
			return validationFailed("Reference does not exist")
		}
		_, err := s.git(c.repo, nil, "update-ref", "-d", ref, old)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return 204, nil, nil
}

// branchRef resolves a ref query parameter (branch, tag or sha) to a
// commit, defaulting to the default branch.
func (s *Server) commitish(rs *repoState, ref string) (string, bool) {
	if ref == "" {
		ref = rs.defaultBranch
	}
	sha, err := s.git(rs, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil || sha == "" {
		return "", false
	}
	return sha, true
}

func (s *Server) contentObject(rs *repoState, p, sha string, size int, data []byte, ref string) obj {
	u := s.apiURL(rs, "contents/"+p+"?ref="+ref)
	git := s.apiURL(rs, "git/blobs/"+sha)
	html := s.htmlURL(rs, "blob/"+ref+"/"+p)
	o := obj{"type": "file", "name": path.Base(p), "path": p, "sha": sha, "size": size,
		"url": u, "git_url": git, "html_url": html, "download_url": s.URL + "/raw/" + rs.full() + "/" + ref + "/" + p,
		"_links": obj{"self": u, "git": git, "html": html}}
	if data != nil {
		o["content"] = wrap64(data)
		o["encoding"] = "base64"
	}
	return o
}

func (s *Server) getContent(c *call) (int, any, error) {
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = c.repo.defaultBranch
	}
	commit, ok := s.commitish(c.repo, ref)
	if !ok {
		return 0, nil, notFound()
	}
	p := strings.Trim(c.params["path"], "/")
	out, err := s.git(c.repo, nil, "ls-tree", "-l", "-z", commit, "--", p)
	if err != nil || out == "" {
		return 0, nil, notFound()
	}
	meta, _, _ := strings.Cut(strings.TrimRight(out, "\x00"), "\t")
	f := strings.Fields(meta)
	if f[1] == "tree" {
		out, err := s.git(c.repo, nil, "ls-tree", "-l", "-z", commit+":"+p)
		if err != nil {
			return 0, nil, err
		}
		list := []obj{}
		for _, l := range strings.Split(out, "\x00") {
			meta, name, ok := strings.Cut(l, "\t")
			if !ok {
				continue
			}
			g := strings.Fields(meta)
			n, _ := strconv.Atoi(g[3])
			e := s.contentObject(c.repo, p+"/"+name, g[2], n, nil, ref)
			if g[1] == "tree" {
				e["type"] = "dir"
				e["download_url"] = nil
			}
			list = append(list, e)
		}
		return 200, list, nil
	}
	if f[1] != "blob" {
		return 0, nil, notFound()
	}
	data, err := blobBytes(c.repo, f[2])
	if err != nil {
		return 0, nil, err
	}
	return 200, s.contentObject(c.repo, p, f[2], len(data), data, ref), nil
}

func (s *Server) putContent(c *call) (int, any, error) {
	var req struct {
		Message   string     `json:"message"`
		Content   string     `json:"content"`
		SHA       string     `json:"sha"`
		Branch    string     `json:"branch"`
		Author    *gitPerson `json:"author"`
		Committer *gitPerson `json:"committer"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	data, err := base64.StdEncoding.DecodeString(req.Content)
	if err != nil {
		return 0, nil, validationFailed("Invalid request.\n\ncontent is not valid Base64")
	}
	branch := req.Branch
	if branch == "" {
		branch = c.repo.defaultBranch
	}
	p := strings.Trim(c.params["path"], "/")
	ref := "refs/heads/" + branch
	status := 201
	var commit string
	err = s.moveRefs(c.repo, c.inst, func() error {
		parent, ok := s.resolveRef(c.repo, ref)
		if !ok {
			if _, any := s.resolveRef(c.repo, "refs/heads/"); any {
				return notFound() // "Branch x not found" on a non-empty repository
			}
			parent = ""
		}
		if parent != "" {
			out, _ := s.git(c.repo, nil, "ls-tree", parent, "--", p)
			if f := strings.Fields(out); len(f) >= 3 {
				if req.SHA == "" {
					return validationFailed("Invalid request.\n\n\"sha\" wasn't supplied.")
				}
				if req.SHA != f[2] {
					return &apiError{status: 409, message: p + " does not match " + req.SHA}
				}
				status = 200
			}
		}
		content := string(data)
		when := s.now()
		sha, err := s.commitFiles(c.repo, parent, map[string]*string{p: &content}, req.Message, when)
		if err != nil {
			return err
		}
		commit = sha
		old := parent
		if old == "" {
			old = zeroSHA
		}
		_, err = s.git(c.repo, nil, "update-ref", ref, sha, old)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	blob, err := s.git(c.repo, nil, "rev-parse", commit+":"+p)
	if err != nil {
		return 0, nil, err
	}
	co, err := s.gitCommitObject(c.repo, commit)
	if err != nil {
		return 0, nil, err
	}
	return status, obj{"content": s.contentObject(c.repo, p, blob, len(data), nil, branch), "commit": co}, nil
}

func (s *Server) getCommit(c *call) (int, any, error) {
	sha, ok := s.commitish(c.repo, c.params["ref"])
	if !ok {
		return 0, nil, &apiError{status: 422, message: "No commit found for SHA: " + c.params["ref"]}
	}
	ci, err := s.commitInfo(c.repo, sha)
	if err != nil {
		return 0, nil, err
	}
	g, err := s.gitCommitObject(c.repo, sha)
	if err != nil {
		return 0, nil, err
	}
	base := ""
	if len(ci.parents) > 0 {
		base = ci.parents[0]
	}
	files, adds, dels, err := s.diffEntries(c.repo, base, sha)
	if err != nil {
		return 0, nil, err
	}
	parents := []obj{}
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": s.apiURL(c.repo, "commits/"+p), "html_url": s.htmlURL(c.repo, "commit/"+p)})
	}
	return 200, obj{
		"sha": sha, "node_id": g["node_id"], "url": s.apiURL(c.repo, "commits/"+sha),
		"html_url": g["html_url"], "comments_url": s.apiURL(c.repo, "commits/"+sha+"/comments"),
		"commit": obj{"url": g["url"], "author": g["author"], "committer": g["committer"], "message": ci.message,
			"comment_count": s.commentCount(c.repo, sha), "tree": g["tree"], "verification": g["verification"]},
		"author": nil, "committer": nil, "parents": parents,
		"stats": obj{"additions": adds, "deletions": dels, "total": adds + dels}, "files": files,
	}, nil
}

// diffEntries lists base..head per file with line counts (base "" = root).
func (s *Server) diffEntries(rs *repoState, base, head string) ([]obj, int, int, error) {
	args := []string{"diff-tree", "-r", "-M", "--numstat", "-z"}
	if base == "" {
		args = append(args, "--root", head)
	} else {
		args = append(args, base, head)
	}
	numOut, err := s.git(rs, nil, args...)
	if err != nil {
		return nil, 0, 0, err
	}
	statusArgs := append([]string{"diff-tree", "-r", "-M", "--raw", "-z", "--no-commit-id"}, args[5:]...)
	rawOut, err := s.git(rs, nil, statusArgs...)
	if err != nil {
		return nil, 0, 0, err
	}
	// --raw -z: ":mode mode sha sha STATUS\0path\0[newpath\0]"
	type rawEntry struct{ status, sha, path, prev string }
	var raws []rawEntry
	f := strings.Split(rawOut, "\x00")
	for i := 0; i < len(f); i++ {
		if !strings.HasPrefix(f[i], ":") {
			continue
		}
		m := strings.Fields(f[i])
		e := rawEntry{status: m[4][:1], sha: m[3]}
		if e.status == "R" || e.status == "C" {
			e.prev, e.path = f[i+1], f[i+2]
			i += 2
		} else {
			e.path = f[i+1]
			i++
		}
		raws = append(raws, e)
	}
	// --numstat -z: "add\tdel\tpath\0" or "add\tdel\t\0old\0new\0"
	counts := map[string][2]int{}
	g := strings.Split(numOut, "\x00")
	for i := 0; i < len(g); i++ {
		parts := strings.Split(g[i], "\t")
		if len(parts) != 3 {
			continue
		}
		a, _ := strconv.Atoi(parts[0])
		d, _ := strconv.Atoi(parts[1])
		p := parts[2]
		if p == "" && i+2 < len(g) {
			p = g[i+2]
			i += 2
		}
		counts[p] = [2]int{a, d}
	}
	files := []obj{}
	adds, dels := 0, 0
	for _, e := range raws {
		st := map[string]string{"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}[e.status]
		if st == "" {
			st = "changed"
		}
		n := counts[e.path]
		adds += n[0]
		dels += n[1]
		o := obj{"sha": e.sha, "filename": e.path, "status": st, "additions": n[0], "deletions": n[1], "changes": n[0] + n[1],
			"blob_url": s.htmlURL(rs, "blob/"+head+"/"+e.path), "raw_url": s.htmlURL(rs, "raw/"+head+"/"+e.path),
			"contents_url": s.apiURL(rs, "contents/"+e.path+"?ref="+head)}
		if e.status == "D" {
			o["sha"] = nil
		}
		if e.prev != "" {
			o["previous_filename"] = e.prev
		}
		files = append(files, o)
	}
	return files, adds, dels, nil
}
