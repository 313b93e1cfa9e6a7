"""Domain services: the rules shared by the GraphQL API and the admin console."""
