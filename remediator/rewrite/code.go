package rewrite

// codeFormat returns the source-code format for path, or nil.
// (Owned by the source-code work: Go, Python, JavaScript, TypeScript, Java,
// Kotlin, Ruby, PHP, C#, shell.)
func codeFormat(path string) format { return nil }
