package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// File is a Backend over a JSON Lines file: one record per line, each line
// ended by "\n". Appends take an exclusive flock(2) on the file, read the
// last line, write the new line with a single write on an O_APPEND
// descriptor and fsync before unlocking, so processes sharing the file on
// one machine never interleave or fork the chain (flock is not reliable on
// network filesystems). Reads take a shared lock, so they never see half a
// line. The file and its directory are created on the first append (file
// mode 0600, directory 0700). Safe for concurrent use.
type File struct {
	path string
}

var _ Backend = (*File)(nil)

// NewFile returns the file backend at path. It touches nothing.
func NewFile(path string) *File { return &File{path: path} }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Append implements Backend: all of next's records in one write, or none.
// It refuses to append after an incomplete last line (ErrIncomplete): the
// file needs repair first.
func (f *File) Append(ctx context.Context, next func(last []byte, stored int) ([][]byte, error)) (int, error) {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return 0, fmt.Errorf("evidence append: %w", err)
	}
	fh, err := os.OpenFile(f.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("evidence append: %w", err)
	}
	defer fh.Close()
	if err := lockFile(ctx, fh, syscall.LOCK_EX); err != nil {
		return 0, fmt.Errorf("evidence append %s: %w", f.path, err)
	}
	defer syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)

	info, err := fh.Stat()
	if err != nil {
		return 0, fmt.Errorf("evidence append: %w", err)
	}
	size := info.Size()
	last, err := lastLine(fh, size)
	if err != nil {
		return 0, fmt.Errorf("evidence append %s: %w", f.path, err)
	}
	lines, err := next(last, 0)
	if err != nil {
		return 0, err
	}
	var buf []byte
	for _, line := range lines {
		if len(line) == 0 || bytes.IndexByte(line, '\n') >= 0 {
			return 0, fmt.Errorf("evidence append %s: a record must be non-empty and hold no newline", f.path)
		}
		buf = append(append(buf, line...), '\n')
	}
	if _, err := fh.Write(buf); err != nil {
		_ = fh.Truncate(size) // drop a partial line; we hold the lock
		return 0, fmt.Errorf("evidence append %s: %w", f.path, err)
	}
	if err := fh.Sync(); err != nil {
		_ = fh.Truncate(size)
		return 0, fmt.Errorf("evidence append %s: %w", f.path, err)
	}
	if size == 0 {
		// The file may be new: make its directory entry durable too.
		if d, err := os.Open(filepath.Dir(f.path)); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return len(lines), nil
}

// Read implements Backend. A missing file is an error wrapping
// fs.ErrNotExist; an empty file is an empty ledger.
func (f *File) Read(ctx context.Context) ([][]byte, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("evidence read: %w", err)
	}
	defer fh.Close()
	if err := lockFile(ctx, fh, syscall.LOCK_SH); err != nil {
		return nil, fmt.Errorf("evidence read %s: %w", f.path, err)
	}
	defer syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, fmt.Errorf("evidence read %s: %w", f.path, err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	body, complete := bytes.CutSuffix(data, []byte("\n"))
	lines := bytes.Split(body, []byte("\n"))
	if !complete {
		return lines, fmt.Errorf("evidence read %s: line %d: %w", f.path, len(lines), ErrIncomplete)
	}
	return lines, nil
}

var _ rangeReader = (*File)(nil)

// ReadRange returns records after+1 to through. It takes no lock: it is
// for AppendUnseen, inside Append, whose exclusive lock keeps writers out.
// Read without that lock, a record being written is missing, and
// AppendUnseen, finding fewer records than it asked for, reads the whole
// ledger under a lock.
func (f *File) ReadRange(ctx context.Context, after, through uint64) ([][]byte, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("evidence read: %w", err)
	}
	var out [][]byte
	for n := uint64(1); n <= through && len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		if !complete {
			break
		}
		if n > after {
			out = append(out, line)
		}
		data = rest
	}
	return out, nil
}

// lastLine returns the last line of the first size bytes of fh, without its
// newline; nil when size is 0.
func lastLine(fh *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	b := make([]byte, 1)
	if _, err := fh.ReadAt(b, size-1); err != nil {
		return nil, err
	}
	if b[0] != '\n' {
		return nil, ErrIncomplete
	}
	const chunk = 64 << 10
	var tail []byte
	for pos := size - 1; pos > 0; {
		n := min(int64(chunk), pos)
		buf := make([]byte, n)
		if _, err := fh.ReadAt(buf, pos-n); err != nil {
			return nil, err
		}
		pos -= n
		tail = append(buf, tail...)
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			return tail[i+1:], nil
		}
	}
	return tail, nil
}

// lockFile takes a flock on fh, waiting as long as ctx allows.
func lockFile(ctx context.Context, fh *os.File, how int) error {
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(fh.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock: %w", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the lock: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}
