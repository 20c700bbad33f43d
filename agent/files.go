package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The files API serves the sandboxes of the agent's runs, as Mesos'
// /files endpoints and the LIST_FILES and READ_FILE operator calls do, so
// a client can browse a task's sandbox and tail its stdout. A path names
// a run's sandbox and what lies below it, in either of two forms:
//
//	<work-dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>/...
//	/frameworks/<fw>/executors/<ex>/runs/<container>/...   (this agent's ID)
//
// where <container> may be "latest", Mesos' name for an executor's newest
// run. Nothing outside a run's sandbox is reachable: a path with a ".."
// element is refused, and so is one whose symlinks resolve outside the
// sandbox (checked on the resolved path, and enforced again by the kernel
// when the file is opened, so a link swapped in meanwhile cannot escape).

// maxRead caps one read at 16 pages, as Mesos does, so tailing a big log
// costs the agent little per request; clients read on from the returned
// offset.
var maxRead = int64(os.Getpagesize() * 16)

// filesError is a files API failure with its HTTP status.
type filesError struct {
	status int
	msg    string
}

func (e *filesError) Error() string { return e.msg }

func badPath(format string, args ...any) error {
	return &filesError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func forbiddenPath(format string, args ...any) error {
	return &filesError{http.StatusForbidden, fmt.Sprintf(format, args...)}
}

func missingPath(format string, args ...any) error {
	return &filesError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// statusOf maps a files error to its HTTP status.
func statusOf(err error) int {
	var fe *filesError
	if errors.As(err, &fe) {
		return fe.status
	}
	return http.StatusInternalServerError
}

// sandboxPath is a requested path resolved to a run's sandbox (real, with
// symlinks resolved) and the part below it.
type sandboxPath struct {
	sandbox string // the run's directory, symlinks resolved
	rel     string // below sandbox, slash-separated, "." for the sandbox itself
	real    string // the target, symlinks resolved; inside sandbox
}

// resolveFile finds what p names, refusing anything outside the agent's
// sandboxes.
func (a *Agent) resolveFile(p string) (sandboxPath, error) {
	if p == "" {
		return sandboxPath{}, badPath("path: required (e.g. path=/frameworks/<framework>/executors/<executor>/runs/latest/stdout)")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return sandboxPath{}, badPath("path: contains a NUL byte")
	}
	if !strings.HasPrefix(p, "/") {
		return sandboxPath{}, badPath("path %q: want an absolute sandbox path or /frameworks/<framework>/executors/<executor>/runs/<container|latest>/...", p)
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return sandboxPath{}, forbiddenPath("path %q: '..' is not allowed; paths are confined to task sandboxes", p)
	}
	p = path.Clean(p)
	slaves := filepath.Join(a.cfg.WorkDir, "slaves")
	var agentID string
	var parts []string
	switch {
	case strings.HasPrefix(p, slaves+"/"):
		parts = strings.Split(strings.TrimPrefix(p, slaves+"/"), "/")
		agentID, parts = parts[0], parts[1:]
	case p == "/frameworks" || strings.HasPrefix(p, "/frameworks/"):
		agentID = string(a.ID())
		if agentID == "" {
			return sandboxPath{}, missingPath("path %q: the agent has no ID yet, so it has no sandboxes", p)
		}
		parts = strings.Split(strings.TrimPrefix(p, "/"), "/")
	default:
		return sandboxPath{}, forbiddenPath("path %q: outside the agent's sandboxes (want %s/<agent>/frameworks/... or /frameworks/...)", p, slaves)
	}
	// frameworks/<fw>/executors/<ex>/runs/<container>[/rest...]
	if len(parts) < 6 || parts[0] != "frameworks" || parts[2] != "executors" || parts[4] != "runs" {
		return sandboxPath{}, forbiddenPath("path %q: not inside a run's sandbox (want .../frameworks/<framework>/executors/<executor>/runs/<container|latest>/...)", p)
	}
	runs := filepath.Join(slaves, agentID, "frameworks", parts[1], "executors", parts[3], "runs")
	container := parts[5]
	if container == "latest" {
		c, err := a.latestRun(runs)
		if err != nil {
			return sandboxPath{}, err
		}
		container = c
	}
	rel := "."
	if len(parts) > 6 {
		rel = strings.Join(parts[6:], "/")
	}
	realSlaves, err := filepath.EvalSymlinks(slaves)
	if err != nil {
		return sandboxPath{}, missingPath("path %q: no sandboxes on this agent", p)
	}
	sandbox, err := filepath.EvalSymlinks(filepath.Join(runs, container))
	if err != nil {
		return sandboxPath{}, missingPath("path %q: no such sandbox", p)
	}
	if !within(sandbox, realSlaves) {
		return sandboxPath{}, forbiddenPath("path %q: the sandbox resolves outside the agent's work dir", p)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(sandbox, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A dangling link, or a missing name below a link, may still
			// lead outside: say so rather than "not found", which would
			// tell whether a file exists outside the sandbox.
			target := filepath.Join(sandbox, filepath.FromSlash(rel))
			if dst, lerr := os.Readlink(target); lerr == nil && filepath.IsAbs(dst) && !within(filepath.Clean(dst), sandbox) {
				return sandboxPath{}, forbiddenPath("path %q: a symlink that leaves the sandbox", p)
			}
			if leavesSandbox(target, sandbox) {
				return sandboxPath{}, forbiddenPath("path %q: resolves outside its sandbox (through a symlink); refused", p)
			}
			return sandboxPath{}, missingPath("path %q: no such file in the sandbox", p)
		}
		return sandboxPath{}, badPath("path %q: %v", p, err)
	}
	if !within(real, sandbox) {
		return sandboxPath{}, forbiddenPath("path %q: resolves outside its sandbox (through a symlink); refused", p)
	}
	r, _ := filepath.Rel(sandbox, real)
	return sandboxPath{sandbox: sandbox, rel: filepath.ToSlash(r), real: real}, nil
}

// leavesSandbox reports whether the deepest existing ancestor of target
// (a path that does not exist) resolves outside sandbox.
func leavesSandbox(target, sandbox string) bool {
	for p := filepath.Dir(target); within(p, sandbox); p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return !within(real, sandbox)
		}
		if p == sandbox {
			break
		}
	}
	return false
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// latestRun picks an executor's newest run: the one the supervisor
// started last among those it knows, else the most recently changed
// directory.
func (a *Agent) latestRun(runs string) (string, error) {
	ents, err := os.ReadDir(runs)
	if err != nil {
		return "", missingPath("no runs in %s", runs)
	}
	started := map[string]time.Time{}
	a.mu.Lock()
	if a.sup != nil {
		for _, t := range a.sup.Tasks() {
			started[t.Spec.ID] = t.StartedAt
		}
	}
	a.mu.Unlock()
	var best string
	var bestAt time.Time
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "latest" {
			continue
		}
		at, ok := started[e.Name()]
		if !ok {
			info, err := e.Info()
			if err != nil {
				continue
			}
			at = info.ModTime()
		}
		if best == "" || at.After(bestAt) {
			best, bestAt = e.Name(), at
		}
	}
	if best == "" {
		return "", missingPath("no runs in %s", runs)
	}
	return best, nil
}

// listFiles lists a sandbox directory (or describes one file), sorted by
// path; each entry's path is p joined with its name, so a client can
// pass it back as is.
func (a *Agent) listFiles(p string) ([]mesos.FileInfo, error) {
	sp, err := a.resolveFile(p)
	if err != nil {
		return nil, err
	}
	p = path.Clean(p)
	st, err := os.Stat(sp.real)
	if err != nil {
		return nil, missingPath("path %q: %v", p, err)
	}
	if !st.IsDir() {
		return []mesos.FileInfo{fileInfo(p, st)}, nil
	}
	ents, err := os.ReadDir(sp.real)
	if err != nil {
		return nil, forbiddenPath("path %q: %v", p, err)
	}
	out := make([]mesos.FileInfo, 0, len(ents))
	for _, e := range ents {
		// Lstat: a link is shown as a link, and says nothing of a file
		// outside the sandbox it may point to.
		info, err := os.Lstat(filepath.Join(sp.real, e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, fileInfo(path.Join(p, e.Name()), info))
	}
	slices.SortFunc(out, func(x, y mesos.FileInfo) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

func fileInfo(p string, fi os.FileInfo) mesos.FileInfo {
	out := mesos.FileInfo{Path: p, Size: uint64(max(fi.Size(), 0)), Mtime: mesos.TimeInfoOf(fi.ModTime()),
		Mode: unixMode(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.Nlink = int32(st.Nlink)
		out.Mode = st.Mode
		out.UID = userName(st.Uid)
		out.GID = groupName(st.Gid)
	}
	return out
}

// unixMode approximates st_mode from a FileMode when no Stat_t is at
// hand.
func unixMode(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	switch {
	case m.IsDir():
		v |= syscall.S_IFDIR
	case m&fs.ModeSymlink != 0:
		v |= syscall.S_IFLNK
	default:
		v |= syscall.S_IFREG
	}
	return v
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return strconv.FormatUint(uint64(uid), 10)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// openFile opens a sandbox file for reading; directories are refused.
func (a *Agent) openFile(p string) (*os.File, os.FileInfo, error) {
	sp, err := a.resolveFile(p)
	if err != nil {
		return nil, nil, err
	}
	f, err := openBeneath(sp.sandbox, sp.rel)
	if err != nil {
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.ELOOP) {
			return nil, nil, forbiddenPath("path %q: resolves outside its sandbox; refused", p)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, missingPath("path %q: no such file in the sandbox", p)
		}
		return nil, nil, forbiddenPath("path %q: %v", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("path %q: %w", p, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, nil, badPath("path %q: is a directory; browse it instead", p)
	}
	return f, st, nil
}

// readFile reads up to length bytes (at most maxRead; length < 0 means
// to the end) at offset, and returns them with the file's size. An
// offset at or past the end reads nothing.
func (a *Agent) readFile(p string, offset, length int64) ([]byte, int64, error) {
	f, st, err := a.openFile(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	size := st.Size()
	if offset >= size || length == 0 {
		return []byte{}, size, nil
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	length = min(length, maxRead)
	buf := make([]byte, length)
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, size, fmt.Errorf("read %q: %w", p, err)
	}
	return buf[:n], size, nil
}

// serveBrowse is GET /files/browse?path=: Mesos' legacy listing, mode as
// a string and mtime in seconds.
func (a *Agent) serveBrowse(w http.ResponseWriter, r *http.Request) {
	infos, err := a.listFiles(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	type entry struct {
		Path  string  `json:"path"`
		Nlink int32   `json:"nlink"`
		Size  uint64  `json:"size"`
		Mtime float64 `json:"mtime"`
		Mode  string  `json:"mode"`
		UID   string  `json:"uid"`
		GID   string  `json:"gid"`
	}
	out := make([]entry, 0, len(infos))
	for _, fi := range infos {
		e := entry{Path: fi.Path, Nlink: fi.Nlink, Size: fi.Size, Mode: modeString(fi.Mode), UID: fi.UID, GID: fi.GID}
		if fi.Mtime != nil {
			e.Mtime = float64(fi.Mtime.Nanoseconds/1e6) / 1e3
		}
		out = append(out, e)
	}
	writeJSON(w, out)
}

// modeString renders st_mode like ls -l ("-rw-r--r--").
func modeString(m uint32) string {
	t := byte('-')
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		t = 'd'
	case syscall.S_IFLNK:
		t = 'l'
	case syscall.S_IFIFO:
		t = 'p'
	case syscall.S_IFSOCK:
		t = 's'
	case syscall.S_IFCHR:
		t = 'c'
	case syscall.S_IFBLK:
		t = 'b'
	}
	b := []byte{t}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

// serveRead is GET /files/read?path=&offset=&length=, answering Mesos'
// {"data": "...", "offset": N}. Without an offset (or with -1) it reads
// nothing and offset is the file's size, which is how Mesos' log pailer
// finds where to start tailing; without a length (or with -1) it reads to
// the end, at most maxRead bytes.
func (a *Agent) serveRead(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := q.Get("path")
	if p == "" {
		writeError(w, http.StatusBadRequest, "path: required")
		return
	}
	offset, length := int64(-1), int64(-1)
	if s := q.Get("offset"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < -1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("offset %q: want a non-negative integer (or -1 for the file's size)", s))
			return
		}
		offset = v
	}
	if s := q.Get("length"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < -1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("length %q: want a non-negative integer (or -1 for the rest)", s))
			return
		}
		length = v
	}
	readAt, readLen := offset, length
	if offset == -1 {
		readAt, readLen = 0, 0
	}
	data, size, err := a.readFile(p, readAt, readLen)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if offset == -1 {
		offset = size
	}
	writeJSON(w, struct {
		Data   string `json:"data"`
		Offset int64  `json:"offset"`
	}{string(data), offset})
}

// serveDownload is GET /files/download?path=: the whole file, with range
// requests, as an attachment.
func (a *Agent) serveDownload(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	f, st, err := a.openFile(p)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", path.Base(p)))
	http.ServeContent(w, r, "", st.ModTime(), f)
}
