"""Every route of the REST API, as the schema names them (shared by the schema and fuzz tests)."""

ENDPOINTS = [
    "/api/resources/",
    "/api/resources/{id}/",
    "/api/resources/{id}/availability/",
    "/api/availability/",
    "/api/bookings/",
    "/api/bookings/{id}/",
    "/api/bookings/{id}/cancel/",
    "/api/bookings/{id}/check-in/",
    "/api/bookings/{id}/finish/",
    "/api/bookings/{id}/approve/",
    "/api/bookings/{id}/reject/",
    "/api/resources/{id}/access-requests/",
    "/api/access-requests/",
    "/api/access-requests/{id}/",
    "/api/access-requests/{id}/approve/",
    "/api/access-requests/{id}/reject/",
    "/api/me/quotas/",
]
