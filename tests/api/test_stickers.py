"""QR stickers in the admin: the printed PDF holds a decodable QR code of each resource's deep link;
a resource out of service refuses bookings with `out_of_service` (409) and comes back from the admin."""

import pypdfium2
import pytest
import zxingcpp

from bookings import services
from bookings.stickers import sticker_sheet_pdf
from core.deeplinks import resource_deep_link, resource_id_from_payload, resource_payload

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/bookings/resource/"


def qr_codes_in(pdf_bytes):
    """The texts of every QR code on every page, rendered at 200 dpi."""
    found = []
    document = pypdfium2.PdfDocument(pdf_bytes)
    for page in document:
        image = page.render(scale=200 / 72).to_pil()
        found += [barcode.text for barcode in zxingcpp.read_barcodes(image) if barcode.format == zxingcpp.QRCode]
    return found


def test_sticker_sheet_holds_a_decodable_qr_code_per_resource(make_resource):
    # 14 stickers: more than one page of 12, and a name in Cyrillic.
    resources = [make_resource(name=f"Camera {n}", hours=None) for n in range(13)]
    resources.append(make_resource(name="Проектор Эпсон", hours=None))
    link = lambda resource: resource_deep_link(resource_id=resource.pk, username="slotbot_test_bot")  # noqa: E731
    pdf = sticker_sheet_pdf(resources=resources, link_for=link)
    assert pdf.startswith(b"%PDF")
    assert len(pypdfium2.PdfDocument(pdf)) == 2
    assert sorted(qr_codes_in(pdf)) == sorted(link(r) for r in resources)


def test_admin_prints_stickers_of_the_selected_resources(admin_client, make_resource, settings):
    settings.TELEGRAM_BOT_USERNAME = "slotbot_test_bot"
    chosen = [make_resource(name="Tripod", hours=None), make_resource(name="Drone", hours=None)]
    make_resource(name="Not selected", hours=None)
    response = admin_client.post(CHANGELIST, {"action": "print_stickers", "_selected_action": [r.pk for r in chosen]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert sorted(qr_codes_in(response.content)) == sorted(
        f"https://t.me/slotbot_test_bot?start=r{r.pk}" for r in chosen
    )


def test_admin_says_so_when_the_bot_username_is_unknown(admin_client, make_resource, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    settings.TELEGRAM_BASE_URL = "http://127.0.0.1:9/bot"  # nothing listens: getMe fails
    resource = make_resource(name="Tripod", hours=None)
    response = admin_client.post(
        CHANGELIST, {"action": "print_stickers", "_selected_action": [resource.pk]}, follow=True
    )
    assert "TELEGRAM_BOT_USERNAME" in response.content.decode()


def test_payload_is_a_valid_start_parameter_and_reads_back():
    assert resource_payload(42) == "r42"
    assert resource_id_from_payload("r42") == 42
    for nothing in ("", "r", "r0", "r042", "42", "r-1", "r1 ", "R1", "r" + "9" * 20):
        assert resource_id_from_payload(nothing) is None


def test_out_of_service_refuses_bookings_with_its_code_until_back(api, staff, make_resource, local_day):
    resource = make_resource(name="Tripod", hours=None)
    assert services.resource_out_of_service_set(resource=resource, by=staff, out_of_service=True)
    body = {"resource": resource.pk, "start": local_day(10).isoformat(), "end": local_day(11).isoformat()}
    response = api.post("/api/bookings/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_service"
    assert services.resource_out_of_service_set(resource=resource, by=staff, out_of_service=False)
    assert api.post("/api/bookings/", body, format="json").status_code == 201


def test_only_staff_take_a_resource_out_of_service(user, make_resource):
    from bookings import errors

    resource = make_resource(name="Tripod", hours=None)
    with pytest.raises(errors.NotAllowed):
        services.resource_out_of_service_set(resource=resource, by=user, out_of_service=True)
    resource.refresh_from_db()
    assert not resource.out_of_service


def test_resources_say_out_of_service_and_never_show_the_access_code(api, staff, make_resource):
    resource = make_resource(name="Tripod", hours=None, access_code="4711", pickup_instructions="Shelf B")
    services.resource_out_of_service_set(resource=resource, by=staff, out_of_service=True)
    listed = api.get("/api/resources/").json()
    item = next(r for r in (listed["results"] if isinstance(listed, dict) else listed) if r["id"] == resource.pk)
    assert item["out_of_service"] is True
    assert "4711" not in str(listed) and "Shelf B" not in str(listed)


def test_the_owner_reads_pickup_and_access_code_through_the_api_only_once_checked_in(
    api, client_of, make_user, make_resource, user
):
    from datetime import timedelta

    from django.utils import timezone

    from bookings import rules

    resource = make_resource(
        name="Locker camera",
        hours=None,
        slot_minutes=5,
        min_duration_minutes=5,
        requires_check_in=True,
        access_code="4711",
        pickup_instructions="Locker 3, top shelf",
    )
    start = rules.round_up_to_grid(resource, timezone.now() + timedelta(minutes=10))
    booking = services.booking_create(user=user, resource=resource, start=start, end=start + timedelta(minutes=30))
    before = api.get(f"/api/bookings/{booking.pk}/").json()
    assert before["pickup"] is None and "4711" not in str(before)

    checked_in = api.post(f"/api/bookings/{booking.pk}/check-in/").json()
    assert checked_in["pickup"] == {"instructions": "Locker 3, top shelf", "access_code": "4711"}
    stranger = client_of(make_user(username="stranger", is_staff=True))
    assert stranger.get(f"/api/bookings/{booking.pk}/").json()["pickup"] is None  # staff see the booking, not the code
