"""Query resolvers, DataLoaders, filters and pagination for the GraphQL schema."""
