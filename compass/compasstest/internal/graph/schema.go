package graph

// SchemaSource returns the schema text the execution layer was generated
// from.
func SchemaSource() string { return sources[0].Input }
