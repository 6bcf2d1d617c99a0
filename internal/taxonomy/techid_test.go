package taxonomy

import "testing"

func TestValidTechniqueID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"AML.T0051", true},
		{"AML.T0051.000", true},
		{"AML.T9999.999", true},
		{"", false},
		{"AML.T051", false},
		{"AML.T0051.00", false},
		{"AML.T0051.0000", false},
		{"AML.TA0002", false},
		{"aml.t0051", false},
		{"T0051", false},
		{" AML.T0051", false},
		{"AML.T0051\n", false},
	}
	for _, tt := range tests {
		if got := ValidTechniqueID(tt.id); got != tt.want {
			t.Errorf("ValidTechniqueID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
