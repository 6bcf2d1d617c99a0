package taxonomy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPhasesOrder(t *testing.T) {
	want := []Phase{"detection", "containment", "eradication", "recovery", "lessons_learned", "closed"}
	got := Phases()
	if !slices.Equal(got, want) {
		t.Fatalf("Phases() = %v, want %v", got, want)
	}
	for i, p := range want {
		if p.Index() != i {
			t.Errorf("%s.Index() = %d, want %d", p, p.Index(), i)
		}
		if !p.Valid() {
			t.Errorf("%s.Valid() = false", p)
		}
	}
}

func TestPhasesReturnsCopy(t *testing.T) {
	got := Phases()
	got[0] = "tampered"
	if Phases()[0] != PhaseDetection {
		t.Fatal("changing the slice from Phases changed the package's phases")
	}
}

func TestPhaseNext(t *testing.T) {
	tests := []struct {
		p      Phase
		want   Phase
		wantOK bool
	}{
		{PhaseDetection, PhaseContainment, true},
		{PhaseContainment, PhaseEradication, true},
		{PhaseEradication, PhaseRecovery, true},
		{PhaseRecovery, PhaseLessonsLearned, true},
		{PhaseLessonsLearned, PhaseClosed, true},
		{PhaseClosed, "", false},
		{"", "", false},
		{"triage", "", false},
		{"Detection", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.p.Next()
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Phase(%q).Next() = %q, %v; want %q, %v", tt.p, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPhaseInvalid(t *testing.T) {
	for _, p := range []Phase{"", "triage", "Closed", " closed", "lessons-learned"} {
		if p.Valid() {
			t.Errorf("Phase(%q).Valid() = true", p)
		}
		if p.Index() != -1 {
			t.Errorf("Phase(%q).Index() = %d, want -1", p, p.Index())
		}
	}
}

func TestPhaseTitle(t *testing.T) {
	tests := []struct {
		p    Phase
		want string
	}{
		{PhaseDetection, "Detection & analysis"},
		{PhaseContainment, "Containment"},
		{PhaseEradication, "Eradication"},
		{PhaseRecovery, "Recovery"},
		{PhaseLessonsLearned, "Lessons learned"},
		{PhaseClosed, "Closed"},
		{"triage", "triage"},
	}
	for _, tt := range tests {
		if got := tt.p.Title(); got != tt.want {
			t.Errorf("Phase(%q).Title() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestParsePhase(t *testing.T) {
	tests := []struct {
		in      string
		want    Phase
		wantErr bool
	}{
		{"detection", PhaseDetection, false},
		{"containment", PhaseContainment, false},
		{"eradication", PhaseEradication, false},
		{"recovery", PhaseRecovery, false},
		{"lessons_learned", PhaseLessonsLearned, false},
		{"closed", PhaseClosed, false},
		{"", "", true},
		{"Containment", "", true},
		{"lessons-learned", "", true},
		{"closed ", "", true},
	}
	for _, tt := range tests {
		got, err := ParsePhase(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParsePhase(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrUnknownPhase) {
			t.Errorf("ParsePhase(%q) error %v does not wrap ErrUnknownPhase", tt.in, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "detection, containment, eradication, recovery, lessons_learned, closed") {
			t.Errorf("ParsePhase(%q) error %q does not list the valid phases in order", tt.in, msg)
		}
	}
}
