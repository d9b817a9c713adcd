"""Keys, personal-data encryption, password hashing, tokens and second factors."""
