package jsonscan

// maxDepth is encoding/json's limit on nesting: text that nests objects and
// arrays deeper is not valid to it.
const maxDepth = 10000

// Valid reports whether b is one valid JSON value, surrounded by nothing but
// whitespace: what encoding/json.Valid reports, in one pass without its
// scanner's call per byte (json.Valid was about 4% of the worker's CPU per
// job). Like encoding/json it does not check that strings are UTF-8, and it
// refuses text that nests objects and arrays more than 10000 deep.
// FuzzValid holds it to encoding/json.Valid.
func Valid(b []byte) bool {
	// open holds the containers the value is in, innermost last: '{' or '['.
	var stack [64]byte
	open := stack[:0]
	i := SkipSpace(b, 0)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(open) == maxDepth {
				return false
			}
			open = append(open, c)
			i = SkipSpace(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' or ']': empty
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i = validKey(b, i); i < 0 {
					return false
				}
			}
			continue
		case '"':
			if i = validStringEnd(b, i); i < 0 {
				return false
			}
		case 't':
			if !literal(b, i, "true") {
				return false
			}
			i += 4
		case 'f':
			if !literal(b, i, "false") {
				return false
			}
			i += 5
		case 'n':
			if !literal(b, i, "null") {
				return false
			}
			i += 4
		default:
			if i = numberEnd(b, i); i < 0 {
				return false
			}
		}
		// After a value: close containers, or go on to the next member or
		// element.
		for {
			i = SkipSpace(b, i)
			if len(open) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			in := open[len(open)-1]
			switch b[i] {
			case ',':
				i = SkipSpace(b, i+1)
				if in == '{' {
					if i = validKey(b, i); i < 0 {
						return false
					}
				}
			case in + 2: // '}' or ']'
				open = open[:len(open)-1]
				i++
				continue
			default:
				return false
			}
			break
		}
	}
}

// validKey reads an object's key and its colon at b[i] and returns the
// index of the value after them (space skipped), or -1.
func validKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = validStringEnd(b, i); i < 0 {
		return -1
	}
	i = SkipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return SkipSpace(b, i+1)
}

// validStringEnd returns the index after the valid JSON string at b[i]
// (b[i] is its opening quote), or -1: a control character, an escape JSON
// does not have, or no closing quote. StringEnd, which the scans use on
// text already known to be valid, checks none of that.
func validStringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		c := b[i]
		if c >= ' ' && c != '"' && c != '\\' {
			continue
		}
		switch c {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal reports whether b holds word at i.
func literal(b []byte, i int, word string) bool {
	return len(b)-i >= len(word) && string(b[i:i+len(word)]) == word
}

// numberEnd returns the index after the JSON number at b[i], or -1: -?
// (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?.
func numberEnd(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return -1
		}
		i = digitsEnd(b, i+2)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		i = digitsEnd(b, i+1)
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
