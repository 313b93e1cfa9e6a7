"""The read-query compiler: a plain selection tree and model metadata → one SQL statement
per root field, whose single value is that field's JSON text, built by the database.

Nothing here imports strawberry or graphql-core: ``schema.compiled`` walks a validated
document into a :mod:`tree <resolvers.compiler.tree>` and reads the schema's metadata
into a :mod:`catalog <resolvers.compiler.catalog>`; :mod:`sql <resolvers.compiler.sql>`
writes the statement in a :mod:`dialect <resolvers.compiler.dialect>`, and
:mod:`plan <resolvers.compiler.plan>` keeps compiled statements.
"""
