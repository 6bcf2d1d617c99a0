package redact

// keyName is the end of the key name before a separator, lowercased and
// stripped of _ . - and spaces, reversed: `"DB_PASSWORD": ` gives
// "drowssapbd", as do `db-password = ` and `DB password: `. Only its last
// keySuffix letters and digits can matter to a rule.
type keyName struct {
	rev [keySuffix]byte
	n   int
}

// keySuffix is the longest key-name ending a rule lists ("secretaccesskey").
const keySuffix = 16

// readKeyName reads the key name before the separator at s[p], skipping the
// closing quote, bracket and spaces (`os.environ["API_KEY"] = `). It reads
// at most 6+2*keySuffix bytes back.
func readKeyName(s string, p int) keyName {
	j := p
	for k := 0; k < 6 && j > 0; k++ {
		c := s[j-1]
		if c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '`' && c != ']' {
			break
		}
		j--
	}
	var k keyName
collect:
	for i := j; i > 0 && k.n < keySuffix && j-i < 2*keySuffix; i-- {
		switch c := s[i-1]; {
		case isUpper(c):
			k.rev[k.n] = c + ('a' - 'A')
			k.n++
		case isLower(c) || isDigit(c):
			k.rev[k.n] = c
			k.n++
		case c == '_' || c == '.' || c == '-' || c == ' ':
		default:
			break collect // the name begins after c
		}
	}
	return k
}

// endsWith reports whether the key name ends with one of keys.
func (k *keyName) endsWith(keys []string) bool {
next:
	for _, suf := range keys {
		if len(suf) > k.n {
			continue
		}
		for i := range len(suf) {
			if k.rev[i] != suf[len(suf)-1-i] {
				continue next
			}
		}
		return true
	}
	return false
}
