"""Sources turn a path, repository or artifact into blobs with their origin."""
