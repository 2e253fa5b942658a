package lab

// Environment variables that change Start. They are here, in a file built on every platform, so
// that tests elsewhere (bench) can name them wherever they compile.
const (
	// EnvKeep=1 leaves the lab up after the test, and logs how to enter it.
	EnvKeep = "INGESTPROBE_LAB_KEEP"
	// EnvRequired=1 turns every "cannot run here" skip into a failure: set it in CI, where a skip
	// would hide a missing package.
	EnvRequired = "INGESTPROBE_LAB_REQUIRED"
)
