package signpost

// The generated directory, for the benchmarks in package signpost_test
// (which read the seeds through signpost/oruk, so cannot live here).
var (
	GenerateDirectory = generateDirectory
	ValidSectors      = validSectors
)
