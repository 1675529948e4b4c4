package scanner

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// textEncoding is how a file's bytes hold its text. git's own idea of it
// (a NUL byte in the first 8000 bytes, or the repository's .gitattributes,
// makes a file "binary") is the pusher's to steer, so the scanner reads every
// file as text (`git log --text`) and decides here.
type textEncoding uint8

const (
	encUnknown textEncoding = iota // not decided yet
	encUTF8                        // UTF-8, ASCII or another one-byte text: scanned as it is
	encUTF16LE
	encUTF16BE
	encUTF32LE
	encUTF32BE
	encBinary
)

// classifySample is how much of what a file adds decides its encoding.
const classifySample = 8 << 10

// unit is the size of the encoding's code unit in bytes.
func (e textEncoding) unit() int {
	switch e {
	case encUTF16LE, encUTF16BE:
		return 2
	case encUTF32LE, encUTF32BE:
		return 4
	}
	return 1
}

func (e textEncoding) littleEndian() bool { return e == encUTF16LE || e == encUTF32LE }

// boms are the byte order marks of the encodings that need decoding; UTF-32
// first, as its little-endian mark starts with UTF-16's.
var boms = []struct {
	mark []byte
	enc  textEncoding
}{
	{[]byte("\xff\xfe\x00\x00"), encUTF32LE},
	{[]byte("\x00\x00\xfe\xff"), encUTF32BE},
	{[]byte("\xff\xfe"), encUTF16LE},
	{[]byte("\xfe\xff"), encUTF16BE},
}

// classify decides how to read a file from the first bytes it adds (its
// added lines joined by '\n'); fromStart says they begin at the file's first
// byte, where a byte order mark would be. The rule:
//   - a UTF-16 or UTF-32 byte order mark, followed by text in that encoding;
//   - no NUL byte: text, as git itself would say;
//   - UTF-32 or UTF-16 without a mark when evident: most code units are
//     ASCII text, almost none are controls or broken surrogates;
//   - otherwise text when, NUL bytes aside, at most one byte in ten is a
//     control character or not UTF-8 (a text file with a stray NUL, or padded
//     with NULs, is still text; images, archives and object code are not).
func classify(sample []byte, fromStart bool) textEncoding {
	if fromStart {
		for _, b := range boms {
			if bytes.HasPrefix(sample, b.mark) {
				if textRatios(sample[len(b.mark):], b.enc, 0).bad*100 <= 1 {
					return b.enc
				}
				return encBinary
			}
		}
	}
	if bytes.IndexByte(sample, 0) < 0 {
		return encUTF8
	}
	for _, enc := range []textEncoding{encUTF32LE, encUTF32BE, encUTF16LE, encUTF16BE} {
		for a := range enc.unit() {
			if r := textRatios(sample, enc, a); r.ascii >= 0.5 && r.bad <= 0.01 {
				return enc
			}
		}
	}
	if mostlyText(sample) {
		return encUTF8
	}
	return encBinary
}

// ratios are the shares of a sample's code units that are ASCII text and
// that no text holds.
type ratios struct{ ascii, bad float64 }

// textRatios decodes sample from byte offset a as enc and measures it.
func textRatios(sample []byte, enc textEncoding, a int) ratios {
	var units, ascii, bad int
	u := enc.unit()
	for i := a; i+u <= len(sample); {
		r, n := decodeUnit(sample[i:], enc)
		i += n * u
		units += n
		switch {
		case asciiText(r):
			ascii++
		case badRune(r):
			bad += n
		}
	}
	if units == 0 {
		return ratios{}
	}
	return ratios{ascii: float64(ascii) / float64(units), bad: float64(bad) / float64(units)}
}

// asciiText reports whether r is printable ASCII or common white space.
func asciiText(r rune) bool { return r >= 0x20 && r < 0x7f || r == '\t' || r == '\n' || r == '\r' }

// badRune reports whether r is something text does not hold: a control
// character other than white space and escape, a broken surrogate, a
// non-character, or no code point at all.
func badRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' || r == 0x1b:
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r == utf8.RuneError || r == 0xfffe || r == 0xffff || r > utf8.MaxRune:
		return true
	}
	return false
}

// mostlyText reports whether a sample holding NUL bytes is still one-byte
// text: at most one in ten of its other bytes is a control character or
// part of no UTF-8 sequence.
func mostlyText(sample []byte) bool {
	var other, bad int
	for i := 0; i < len(sample); {
		c := sample[i]
		if c == 0 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(sample[i:])
		other += n
		if r == utf8.RuneError && n == 1 || badRune(r) {
			bad += n
		}
		i += n
	}
	return bad*10 <= other
}

// decodeUnit decodes the rune at the start of b (at least one code unit
// long) and says how many code units it took: two for a UTF-16 surrogate
// pair, else one. A broken surrogate decodes to utf8.RuneError.
func decodeUnit(b []byte, enc textEncoding) (rune, int) {
	switch enc {
	case encUTF32LE:
		return rune(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24), 1
	case encUTF32BE:
		return rune(uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24), 1
	}
	u := unit16(b, enc)
	if !utf16.IsSurrogate(rune(u)) {
		return rune(u), 1
	}
	if len(b) >= 4 {
		if r := utf16.DecodeRune(rune(u), rune(unit16(b[2:], enc))); r != utf8.RuneError {
			return r, 2
		}
	}
	return utf8.RuneError, 1
}

func unit16(b []byte, enc textEncoding) uint16 {
	if enc == encUTF16LE {
		return uint16(b[0]) | uint16(b[1])<<8
	}
	return uint16(b[1]) | uint16(b[0])<<8
}

// textDecoder turns the added lines of a UTF-16 or UTF-32 file, as git
// splits them (at every 0x0A byte), into UTF-8 text lines numbered as an
// editor numbers them. A 0x0A byte is not always a line break's: it can be
// part of any character (上 is U+4E0A), so where a run of consecutive git
// lines starts after line 1, the file's content says at which byte the run
// starts, where the code unit holding that byte starts, and which text line
// it is on.
type textDecoder struct {
	enc textEncoding
	// content returns the file's content as the commit leaves it; it is
	// called once, when a run starts after line 1.
	content func() ([]byte, error)
	at      *byteCursor // nil until content is needed
	pending []byte      // bytes of the current run not decoded yet
	text    []byte      // the current text line so far, UTF-8
	line    int         // the current text line's number
	next    int         // the git line number that continues the run; 0: none
}

// add feeds git line n, the bytes raw; emit gets each completed text line.
func (d *textDecoder) add(raw []byte, n int, emit func(text []byte, line int)) error {
	if n != d.next {
		d.endRun(emit)
		if err := d.startRun(raw, n); err != nil {
			return err
		}
	} else {
		d.pending = append(d.pending, '\n')
		d.pending = append(d.pending, raw...)
	}
	d.next = n + 1
	d.decode(emit)
	return nil
}

// startRun begins a run at git line n.
func (d *textDecoder) startRun(raw []byte, n int) error {
	if n == 1 {
		for _, b := range boms {
			if b.enc == d.enc && bytes.HasPrefix(raw, b.mark) {
				raw = raw[len(b.mark):]
				break
			}
		}
		d.pending = append(d.pending[:0], raw...)
		d.line = 1
		return nil
	}
	if d.at == nil {
		data, err := d.content()
		if err != nil {
			return err
		}
		d.at = &byteCursor{data: data, git: 1, text: 1}
	}
	c := d.at
	if !c.advance(n, d.enc) {
		return fmt.Errorf("line %d is not in the file's content", n)
	}
	// Start at the code unit holding the run's first byte; when that unit
	// is the line break before the run, it ends the line before.
	u := d.enc.unit()
	start := c.pos - c.pos%u
	d.pending = append(append(d.pending[:0], c.data[start:c.pos]...), raw...)
	d.line = c.text
	if start < c.pos && isLineBreak(c.data[start:], d.enc) {
		d.line--
	}
	return nil
}

// byteCursor walks a file's content forward, git line by git line.
type byteCursor struct {
	data []byte
	pos  int // where git line git starts
	git  int
	text int // the text line of the byte at pos
}

// advance moves the cursor to the start of git line n (n >= c.git).
func (c *byteCursor) advance(n int, enc textEncoding) bool {
	u := enc.unit()
	for c.git < n {
		i := bytes.IndexByte(c.data[c.pos:], '\n')
		if i < 0 {
			return false
		}
		q := c.pos + i
		if start := q - q%u; start+u <= len(c.data) && isLineBreak(c.data[start:], enc) {
			c.text++
		}
		c.pos, c.git = q+1, c.git+1
	}
	return c.git == n
}

// isLineBreak reports whether the code unit at the start of b is U+000A.
func isLineBreak(b []byte, enc textEncoding) bool {
	switch enc {
	case encUTF16LE, encUTF16BE:
		return unit16(b, enc) == '\n'
	}
	r, _ := decodeUnit(b, enc)
	return r == '\n'
}

// decode turns the pending whole code units into text.
func (d *textDecoder) decode(emit func([]byte, int)) {
	u := d.enc.unit()
	i := 0
	for i+u <= len(d.pending) {
		if u == 2 && i+2*u > len(d.pending) && utf16.IsSurrogate(rune(unit16(d.pending[i:], d.enc))) {
			break // the pair's second half is still to come
		}
		r, k := decodeUnit(d.pending[i:], d.enc)
		i += k * u
		if r == '\n' {
			d.emit(emit)
			continue
		}
		d.text = utf8.AppendRune(d.text, r)
	}
	d.pending = append(d.pending[:0], d.pending[i:]...)
}

func (d *textDecoder) emit(emit func([]byte, int)) {
	if len(d.text) > 0 {
		emit(d.text, d.line)
	}
	d.text = d.text[:0]
	d.line++
}

// endRun ends the current run: the 0x0A byte after its last git line is
// put back, completed with zeros where it starts a little-endian line
// break, and what is left of the line is emitted.
func (d *textDecoder) endRun(emit func([]byte, int)) {
	if d.next == 0 {
		return
	}
	d.pending = append(d.pending, '\n')
	if d.enc.littleEndian() {
		for len(d.pending)%d.enc.unit() != 0 {
			d.pending = append(d.pending, 0)
		}
	}
	d.decode(emit)
	if len(d.text) > 0 {
		d.emit(emit)
	}
	d.pending = d.pending[:0]
	d.next = 0
}
