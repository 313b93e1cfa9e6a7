"""The GraphQL schema: strawberry types over the hub's models."""
