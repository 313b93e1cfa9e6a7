// Linju Hub's GraphiQL page: GraphiQL 3 (UMD) with React 18, all from /static.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# 邻聚 Hub GraphQL 接口",
    "#",
    "# 在左侧编写查询，按 Ctrl-Enter（或上方的运行按钮）执行；",
    "# Ctrl-Space 自动补全，右侧“文档”按钮可浏览全部类型与字段。",
    "# Write a query on the left and press Ctrl-Enter to run it.",
    "",
    "query {",
    "  __typename",
    "}",
    "",
  ].join("\n");

  var params = new URLSearchParams(window.location.search);
  var fetchUrl = window.location.origin + window.location.pathname;
  var subscriptionUrl = fetchUrl.replace(/^http/, "ws");

  function remember(name, value) {
    if (value) {
      params.set(name, value);
    } else {
      params.delete(name);
    }
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var fetcher = GraphiQL.createFetcher({
    url: fetchUrl,
    subscriptionUrl: subscriptionUrl,
    enableIncrementalDelivery: false,
    headers: { Accept: "application/graphql-response+json, application/json;q=0.9" },
  });

  function HubGraphiQL() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      // "q", not "query": /graphql?query=… runs the query instead of opening this page.
      query: params.get("q") || undefined,
      variables: params.get("variables") || undefined,
      onEditQuery: function (value) {
        remember("q", value);
      },
      onEditVariables: function (value) {
        remember("variables", value);
      },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(HubGraphiQL),
  );
})();
