package defaults

// Number is the kind of setting the rule applies to: counts, sizes, rates
// and durations (time.Duration is an int64).
type Number interface {
	~int | ~int32 | ~int64 | ~uint32 | ~float64
}

// Set sets *v to def where *v is zero or negative.
func Set[T Number](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
