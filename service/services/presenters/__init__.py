"""Table rows into the API's Structs, for the use cases beside them: tables never leave
the service layer. ``worker_side`` is everything a worker or the public lookup receives."""
