package jsonscan

import "bytes"

// ObjectMembers calls f with the key and the value of each member of the
// JSON object b, in order, until f returns false, and returns how deeply b
// nests objects and arrays (1 for an object of scalars). ok is false when
// f returned false, when b is not an object, or when a key holds an escape
// (its bytes are not the key). It does not check the values' syntax: for text that is
// not JSON it may give members that are not, or ok where b is not valid
// (encoding/json, which parses b after it, says so).
func ObjectMembers(b []byte, f func(key, value []byte) bool) (depth int, ok bool) {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	depth = 1
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return depth, SkipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		end := StringEnd(b, i)
		if end < 0 {
			return 0, false
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return 0, false
		}
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		start := SkipSpace(b, i+1)
		end, inner := ValueEnd(b, start)
		if end <= start {
			return 0, false
		}
		depth = max(depth, 1+inner)
		if !f(key, b[start:end]) {
			return 0, false
		}
		i = SkipSpace(b, end)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			return depth, SkipSpace(b, i+1) == len(b)
		default:
			return 0, false
		}
	}
}

// SkipSpace returns the index of the first byte of b from i on that is not
// JSON whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// StringEnd returns the index after the closing quote of the JSON string
// that starts at b[i], or -1 when it does not end.
func StringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// ValueEnd returns the index after the JSON value that starts at b[i] and
// how deeply it nests objects and arrays (0 for a string, number or
// literal); end is -1 when the value does not end.
func ValueEnd(b []byte, i int) (end, depth int) {
	if i >= len(b) {
		return -1, 0
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i), 0
	case '{', '[':
		level := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = StringEnd(b, j); j < 0 {
					return -1, 0
				}
				j-- // the loop steps past the quote
			case '{', '[':
				level++
				depth = max(depth, level)
			case '}', ']':
				if level--; level == 0 {
					return j + 1, depth
				}
			}
		}
		return -1, 0
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' &&
		b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, 0
}
