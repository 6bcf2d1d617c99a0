// Package promptattack is the stream detector for prompt attacks: it runs
// the prompt-injection classifier and signature rules of package
// promptinject over every event that carries prompt text and raises an
// alert, typed by the kind of attack, for those it flags.
package promptattack
