"""A flask-admin backend for Tortoise ORM, laid out like flask-admin's own contrib backends:
``view`` (the ModelView), ``form`` (forms from model metadata), ``filters``, ``tools``
and ``ajax`` (select2 lookups for relation fields)."""

from admin.contrib.tortoise.view import ModelView

__all__ = ["ModelView"]
