package rewrite

// configFormat returns the config format for path, or nil.
// (Owned by the config-formats work: dotenv, YAML, docker-compose, JSON,
// TOML, INI, .properties, XML, HCL/tfvars, Dockerfile.)
func configFormat(path string) format { return nil }
