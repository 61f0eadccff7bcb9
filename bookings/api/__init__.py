"""The REST API of the booking domain (Django REST framework, OpenAPI via drf-spectacular)."""
