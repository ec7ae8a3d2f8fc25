"""Data aggregation in the APPDS manner: GraphQL search, MD5 query ids, a response cache,
a quick answer, then a prepared delivery (buffer directory, manifest, archive, WebDAV) that
expires when unused; and the metadata extractor. See docs/aggregation.md."""
