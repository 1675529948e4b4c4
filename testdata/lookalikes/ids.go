package fixtures

// Identifiers and digests, none of them secret.
var (
	requestID   = "550e8400-e29b-41d4-a716-446655440000"
	tenantID    = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	commitSHA   = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	imageDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	md5Sum      = "d41d8cd98f00b204e9800998ecf8427e"
	sriHash     = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
)
