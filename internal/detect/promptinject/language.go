package promptinject

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// languageScan is how much of a text readsEnglish reads.
const languageScan = 2048

// readsEnglish reports whether text reads as English, or as nothing in
// particular (code, numbers, a list of nouns): whether at least half its
// letters are ASCII and its English function words are at least as many
// as its signs of another language, which are words spelt with a letter
// outside ASCII and the function words of the other languages the corpora
// write in Latin letters. A word common to English and one of them ("a",
// "me", "on", "was", "will", "come") is in neither list.
func readsEnglish(text string) bool {
	text = text[:min(len(text), languageScan)]
	var letters, ascii, en, other int
	var buf [24]byte
	n, wide := 0, false
	word := func() {
		switch {
		case wide:
			other++
		case n == 0 || n > len(buf):
		case englishFunctionWords[string(buf[:n])]:
			en++
		case otherFunctionWords[string(buf[:n])]:
			other++
		}
		n, wide = 0, false
	}
	for _, r := range text {
		if !unicode.IsLetter(r) {
			if r != '\'' && r != '’' {
				word()
			}
			continue
		}
		letters++
		if r >= utf8.RuneSelf {
			wide = true
			continue
		}
		ascii++
		if n < len(buf) {
			buf[n] = byte(r) | 0x20
		}
		n++
	}
	word()
	if 2*ascii < letters {
		return false
	}
	return en >= other
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// englishFunctionWords are written without apostrophes, as readsEnglish reads
// them ("what's" is "whats").
var englishFunctionWords = wordSet(`the of to and or but is are were be been being it its this that these those i you he she we they
	my your our their his her what whats how why when where which who can could would should shall
	does did not from by at about into onto if than then there here have has had with for up out
	over under after before because any some all each every more most very just only please tell
	give write make show let im ive youre dont cant wont isnt its whats hows thats theres`)

// otherFunctionWords are common words of Spanish, French, German, Italian,
// Portuguese, Indonesian, Filipino, Turkish and Vietnamese (those without
// a letter outside ASCII), none of them an English word.
var otherFunctionWords = wordSet(`el la los las del al una unos unas que por para con es y pero como mas muy esto esta este eso yo
	tu usted nosotros puedo puedes hay le les des du et est sont pour dans avec sur mais ou je tu il
	elle nous vous ils une qui quoi comment pourquoi moi toi ce cette ces der die das den dem des
	und ist sind ich du er sie wir ihr nicht ein eine einen einem mit auf fur wie wer kann bitte mir
	mich dir dich il lo gli di che con sono mi ti ci si ma anche della delle degli questo questa
	perche os em um uma nao voce eu meu minha com por para pode isso isto yang dan di untuk dengan
	ini itu saya apa bisa tidak ada ke dari kamu aku ang ng mga sa ako ko mo ba siya kami namin
	ninyo bir ve bu icin ne mi misin bana sen ben cho va la cua toi mot khong duoc nay un uno cosa
	posso puoi quanto quale bagaimana berapa kapan mengapa siapa warum welche sollte`)
