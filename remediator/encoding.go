package remediator

import (
	"bytes"
	"context"
	"sync"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Files in UTF-16 or UTF-32 with a byte-order mark (Windows PowerShell
// scripts, .reg files, some Visual Studio configs) are found by the
// scanner after decoding; the fix reads them as UTF-8 and writes them back
// in their own encoding and mark, so the rewrite works on text, not bytes.

// boms are the marks the fix recognises, longest first (UTF-32LE's mark
// begins with UTF-16LE's).
var boms = []struct {
	mark []byte
	enc  encoding.Encoding
}{
	{[]byte{0xFF, 0xFE, 0x00, 0x00}, utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM)},
	{[]byte{0x00, 0x00, 0xFE, 0xFF}, utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM)},
	{[]byte{0xFF, 0xFE}, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)},
	{[]byte{0xFE, 0xFF}, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)},
}

// textFiles is a FileReader that hands out UTF-16/32 files as UTF-8 and
// remembers their encodings, for encode to turn rewritten content back.
type textFiles struct {
	read FileReader
	mu   sync.Mutex
	encs map[string]encoding.Encoding
}

func decodingReader(read FileReader) *textFiles {
	return &textFiles{read: read, encs: map[string]encoding.Encoding{}}
}

func (t *textFiles) Read(ctx context.Context, path string) ([]byte, bool, error) {
	data, ok, err := t.read(ctx, path)
	if err != nil || !ok {
		return data, ok, err
	}
	for _, b := range boms {
		if !bytes.HasPrefix(data, b.mark) {
			continue
		}
		utf8, err := b.enc.NewDecoder().Bytes(data)
		if err != nil {
			return data, true, nil // not valid in its own encoding: left as bytes
		}
		t.mu.Lock()
		t.encs[path] = b.enc
		t.mu.Unlock()
		return utf8, true, nil
	}
	return data, true, nil
}

// encode returns content (UTF-8) in path's own encoding, with its mark.
func (t *textFiles) encode(path string, content []byte) ([]byte, error) {
	t.mu.Lock()
	enc := t.encs[path]
	t.mu.Unlock()
	if enc == nil || content == nil {
		return content, nil
	}
	return enc.NewEncoder().Bytes(content)
}
