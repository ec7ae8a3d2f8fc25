// Starts GraphiQL on this site's /graphql (a file, not inline, so the page's policy can
// forbid inline scripts).
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint, headers: {} });
  var example = [
    "# Search files; the same filters in another order give the same queryId.",
    "query {",
    "  search(filter: {configName: \"LHCb\", fileType: \"DST\"}, first: 5) {",
    "    queryId total checksum cached cacheStatus endCursor",
    "    files { lfn size adler32 }",
    "    delivery { state progress archiveUrl directoryUrl expiresAt }",
    "  }",
    "}",
  ].join("\n");
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: example })
  );
})();
