package taxonomy

// ValidTechniqueID reports whether id has the shape of an ATLAS technique or
// sub-technique id (AML.T0051, AML.T0051.000). It does not say the technique
// exists: incidents may name techniques newer than the built-in list.
func ValidTechniqueID(id string) bool { return techniqueIDPattern.MatchString(id) }
