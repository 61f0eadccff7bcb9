"""Resources, their booking rules, bookings and their status history.

Writes go through bookings.services and reads through bookings.selectors;
nothing outside this package creates these rows directly.
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class ResourceKind(models.TextChoices):
    EQUIPMENT = "equipment", _("Equipment")
    SPACE = "space", _("Space")


class Resource(models.Model):
    """Something people book: a projector, a camera, a lab bench, a room.

    Its booking rules live on the row, so each resource can have its own.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ResourceKind.choices)
    category = models.CharField(_("category"), max_length=60, blank=True)
    location = models.CharField(_("location"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    # Booking rules. Durations are in minutes; the grid is counted from local midnight.
    slot_minutes = models.PositiveIntegerField(
        _("slot grid (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    min_duration_minutes = models.PositiveIntegerField(_("minimum duration (minutes)"), default=30)
    max_duration_minutes = models.PositiveIntegerField(_("maximum duration (minutes)"), default=4 * 60)
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=0, help_text=_("How long before its start a booking must be made.")
    )
    max_advance_days = models.PositiveIntegerField(
        _("bookable days ahead"), default=30, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    requires_approval = models.BooleanField(_("needs admin approval"), default=False)
    requires_check_in = models.BooleanField(_("needs check-in"), default=False)
    check_in_opens_minutes = models.PositiveIntegerField(_("check-in opens (minutes before start)"), default=15)
    check_in_grace_minutes = models.PositiveIntegerField(
        _("check-in grace (minutes after start)"),
        default=15,
        help_text=_("A booking not checked in by start + grace expires and its time is freed."),
    )
    requires_return = models.BooleanField(
        _("needs return"),
        null=True,
        blank=True,
        help_text=_(
            "An active booking ends only when the item is returned; not returned by its end, it becomes overdue. "
            "Empty: equipment that needs check-in needs return."
        ),
    )
    buffer_minutes = models.PositiveIntegerField(
        _("buffer after each booking (minutes)"),
        default=0,
        help_text=_("Time kept free after a booking (cleaning, charging, hand-over)."),
    )

    # At the resource (issue 10): shown to the holder only when they check in, read at that moment.
    pickup_instructions = models.TextField(
        _("pickup instructions"), blank=True, help_text=_("Shown to the user only when they check in.")
    )
    access_code = models.CharField(
        _("access code"), max_length=64, blank=True, help_text=_("E.g. a locker code; shown only at check-in.")
    )
    # Set by an admin (e.g. from a problem report); while set, nothing can be booked.
    out_of_service_since = models.DateTimeField(_("out of service since"), null=True, blank=True)

    # Calendar feeds (bookings.feeds): a public iCalendar feed of its bookings, without names, for a room display.
    public_feed = models.BooleanField(
        _("public calendar feed"),
        default=False,
        help_text=_("Serve its bookings, without people's names, as a calendar feed (e.g. for a room display)."),
    )
    # The feed's secret path part; set when the feed is first switched on, renewed by an admin action.
    public_feed_token = models.CharField(_("public feed token"), max_length=64, blank=True, editable=False)

    # A unit of a pool of identical items (bookings.pools): still booked, raced and checked in as itself.
    pool = models.ForeignKey(
        "Pool", on_delete=models.SET_NULL, null=True, blank=True, related_name="units", verbose_name=_("pool")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_duration_minutes__lte=models.F("max_duration_minutes")),
                name="resource_min_duration_lte_max",
            ),
            models.CheckConstraint(condition=Q(min_duration_minutes__gt=0), name="resource_min_duration_positive"),
            models.UniqueConstraint(
                fields=["public_feed_token"],
                condition=~Q(public_feed_token=""),
                name="resource_public_feed_token_unique",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def slot(self):
        return timedelta(minutes=self.slot_minutes)

    @property
    def buffer(self):
        return timedelta(minutes=self.buffer_minutes)

    @property
    def out_of_service(self):
        return self.out_of_service_since is not None

    @property
    def return_required(self):
        """Whether its bookings end only by a return (RETURN_REQUIRED_Q says the same in SQL)."""
        if self.requires_return is not None:
            return self.requires_return
        return self.kind == ResourceKind.EQUIPMENT and self.requires_check_in


# Bookings whose resource needs a return: an explicit yes, or by default equipment that needs check-in.
RETURN_REQUIRED_Q = Q(resource__requires_return=True) | Q(
    resource__requires_return__isnull=True, resource__kind=ResourceKind.EQUIPMENT, resource__requires_check_in=True
)


def name_key(text):
    """How names and aliases are compared: casefolded, whitespace collapsed.

    Python's casefold, not the database's LOWER/LIKE: SQLite folds ASCII only,
    so "Проектор" and "проектор" would differ there.
    """
    return " ".join(text.casefold().split())


class ResourceAlias(models.Model):
    """Another name a resource is found by, in any language: "проектор", "beamer".

    `key` is the alias's name_key, kept so that uniqueness per resource ignores
    case in every alphabet on every database.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(_("alias"), max_length=120)
    # Casefolding may lengthen a text (ß → ss, ﬃ → ffi), at most threefold.
    key = models.CharField(max_length=360, editable=False)

    class Meta:
        ordering = ["resource", "alias"]
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        constraints = [
            models.UniqueConstraint(fields=["resource", "key"], name="resource_alias_unique_per_resource"),
        ]

    def __str__(self):
        return self.alias

    def save(self, *args, **kwargs):
        self.alias = " ".join(self.alias.split())
        self.key = name_key(self.alias)
        super().save(*args, **kwargs)


class OpeningHours(models.Model):
    """One opening interval of a resource on a weekday, in the site's time zone.

    A resource with no rows at all is open around the clock; a weekday with
    no row is closed. Several rows on one day give a break (e.g. lunch).
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["resource", "weekday", "opens"]
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opening_hours_opens_before_closes"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class BookingStatus(models.TextChoices):
    """A booking's status. Its label is the one word for it everywhere: bot, messages, admin, API.

    The context keeps the words apart from other apps' ("active" is django.contrib.auth's too).
    """

    PENDING = "pending", pgettext_lazy("booking status", "pending approval")
    CONFIRMED = "confirmed", pgettext_lazy("booking status", "confirmed")
    ACTIVE = "active", pgettext_lazy("booking status", "active")
    COMPLETED = "completed", pgettext_lazy("booking status", "completed")
    EXPIRED = "expired", pgettext_lazy("booking status", "expired")
    CANCELLED = "cancelled", pgettext_lazy("booking status", "cancelled")
    REJECTED = "rejected", pgettext_lazy("booking status", "rejected")
    OVERDUE = "overdue", pgettext_lazy("booking status", "overdue")
    # Offered to the first waiter of the waitlist (bookings.waitlist): theirs until held_until, to take or decline.
    HELD = "held", pgettext_lazy("booking status", "held for you")


# Statuses that hold their time: the exclusion constraint covers exactly these. An overdue
# booking still holds its item (and, for new bookings, everything after it: bookings.availability).
# A held booking (a waitlist offer) holds its time too: nobody else may book it, and its holder's quota counts it.
LIVE_STATUSES = (
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.ACTIVE,
    BookingStatus.OVERDUE,
    BookingStatus.HELD,
)
LIVE_Q = Q(status__in=LIVE_STATUSES)


class Booking(models.Model):
    """A user's hold on a resource from start to end.

    `blocked_until` is end plus the resource's buffer at booking time: the
    time range [start, blocked_until) is what no other live booking of the
    resource may overlap (an exclusion constraint on PostgreSQL).
    """

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    blocked_until = models.DateTimeField(_("blocked until"))
    status = models.CharField(_("status"), max_length=16, choices=BookingStatus.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    check_in_deadline = models.DateTimeField(
        _("check in by"),
        null=True,
        blank=True,
        help_text=_("Set when the resource needs check-in: start plus grace, fixed at booking time."),
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)

    # Set when the booking is one unit of a pool request (bookings.pools.pool_book).
    pool_request = models.ForeignKey(
        "PoolRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("pool request"),
    )
    # Set when the booking is one occurrence of a recurring series (bookings.series).
    series = models.ForeignKey(
        "BookingSeries",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("series"),
    )
    # Set on a held booking (a waitlist offer): taken by then, or it lapses and goes to the next waiter.
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="booking_start_before_end"),
            models.CheckConstraint(condition=Q(end__lte=models.F("blocked_until")), name="booking_end_within_block"),
            # The exclusion constraint against overlaps is added by a PostgreSQL-only
            # migration (0002), since SQLite has no GiST; see services.booking_create.
        ]
        indexes = [
            # Live bookings are the few future/current ones, so partial indexes over
            # them stay small however many finished bookings the table holds.
            models.Index(fields=["resource", "start"], condition=LIVE_Q, name="booking_live_resource_start"),
            models.Index(fields=["status", "start"], condition=LIVE_Q, name="booking_live_status_start"),
            models.Index(fields=["status", "end"], condition=LIVE_Q, name="booking_live_status_end"),
            models.Index(fields=["status", "check_in_deadline"], condition=LIVE_Q, name="booking_live_status_deadline"),
            models.Index(fields=["user", "start"], name="booking_user_start"),
            # The lapse sweep reads held bookings only (bookings.waitlist).
            models.Index(fields=["held_until"], condition=Q(status="held"), name="booking_held_until"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.resource} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} ({self.status})"


# Why the system changed a booking, as written into its history: stored in
# English, stable for programs reading the API; shown translated in the admin.
REASON_START_TIME = gettext_noop("start time reached")
REASON_END_TIME = gettext_noop("end time reached")
REASON_NO_CHECK_IN = gettext_noop("no check-in")
REASON_NOT_APPROVED = gettext_noop("not approved before the start")
REASON_RETURNED_EARLY = gettext_noop("returned early")
REASON_NOT_RETURNED = gettext_noop("not returned by the end time")
REASON_RETURNED_LATE = gettext_noop("returned late")
# Rescheduled (bookings.reschedule): the history row of an extension or a move (from and to status may be equal).
REASON_EXTENDED = gettext_noop("extended")
REASON_MOVED = gettext_noop("moved")
# The waitlist (bookings.waitlist): an offer declined by its holder, or not taken in time.
REASON_OFFER_DECLINED = gettext_noop("offer declined")
REASON_OFFER_LAPSED = gettext_noop("offer not taken in time")
SYSTEM_REASONS = frozenset(
    {
        REASON_EXTENDED,
        REASON_MOVED,
        REASON_OFFER_DECLINED,
        REASON_OFFER_LAPSED,
        REASON_START_TIME,
        REASON_END_TIME,
        REASON_NO_CHECK_IN,
        REASON_NOT_APPROVED,
        REASON_RETURNED_EARLY,
        REASON_NOT_RETURNED,
        REASON_RETURNED_LATE,
    }
)


class BookingEvent(models.Model):
    """One status change of a booking: from, to, when, by whom (or the system), why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=BookingStatus.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system made the change (a scheduled sweep)."),
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["booking", "at"])]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"

    def reason_in_language(self):
        """The reason in the active language: the system's own are translated, people's shown as written."""
        return gettext(self.reason) if self.reason in SYSTEM_REASONS else self.reason


# --- Institution policies: who may book what, fair-use quotas, closures ---------
# The rules that read these rows live in bookings.policies.

# Bookings that count against a quota: those holding time, and those that used it.
QUOTA_COUNTED_STATUSES = (*LIVE_STATUSES, BookingStatus.COMPLETED)


def _scope_constraint(name):
    """A policy row names one resource, or one category, or neither (everything), never both."""
    return models.CheckConstraint(
        condition=Q(resource__isnull=True) | Q(category=""),
        name=name,
        violation_error_message=_("Choose a resource or a category, not both."),
    )


class AccessRule(models.Model):
    """Restricts a resource, or every resource of a category, to members of one group.

    A resource that no rule names is open to everyone. The group is a Django
    auth group, or a Telegram chat (its members, asked with getChatMember).
    Several rules on one resource add up: a member of any of them may book.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="access_rules")
    category = models.CharField(_("category"), max_length=60, blank=True)
    group = models.ForeignKey(
        "auth.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("group")
    )
    telegram_chat_id = models.BigIntegerField(_("Telegram chat id"), null=True, blank=True)
    telegram_chat_title = models.CharField(_("Telegram chat title"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("access rule")
        verbose_name_plural = _("access rules")
        constraints = [
            _scope_constraint("access_rule_one_scope"),
            models.CheckConstraint(
                condition=Q(resource__isnull=False) | ~Q(category=""),
                name="access_rule_names_a_scope",
                violation_error_message=_("Choose the resource or the category this rule restricts."),
            ),
            models.CheckConstraint(
                condition=(Q(group__isnull=False) & Q(telegram_chat_id__isnull=True))
                | (Q(group__isnull=True) & Q(telegram_chat_id__isnull=False)),
                name="access_rule_one_kind_of_group",
                violation_error_message=_("Choose a Django group or give a Telegram chat id, one of the two."),
            ),
        ]

    def __str__(self):
        return f"{self.resource or self.category}: {self.group_label}"

    @property
    def group_label(self):
        if self.group_id:
            return self.group.name
        return self.telegram_chat_title or str(self.telegram_chat_id)


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("access request", "pending")
    APPROVED = "approved", pgettext_lazy("access request", "approved")
    REJECTED = "rejected", pgettext_lazy("access request", "rejected")


class AccessRequest(models.Model):
    """A user asks to be let into a restricted resource; staff approve or reject."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="access_requests")
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        constraints = [
            # One open request per user and resource: a second tap does not queue another.
            models.UniqueConstraint(
                fields=["user", "resource"], condition=Q(status="pending"), name="access_request_one_pending"
            ),
        ]

    def __str__(self):
        return f"{self.user} → {self.resource} ({self.status})"


class QuotaKind(models.TextChoices):
    BOOKINGS = "bookings", _("at most N bookings per period")
    HOURS = "hours", _("at most H hours per period")
    LIVE = "live", _("at most N live bookings at once")


class QuotaPeriod(models.TextChoices):
    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class QuotaRule(models.Model):
    """A fair-use limit: scope (resource, category or everything) × who (everyone or a group) × a limit.

    Periods are calendar days, weeks (from Monday) and months in the site's
    zone. Several rules stack; staff are exempt.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.CharField(_("category"), max_length=60, blank=True)
    group = models.ForeignKey(
        "auth.Group",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
        help_text=_("Empty: the limit applies to everyone."),
    )
    kind = models.CharField(_("limit"), max_length=16, choices=QuotaKind.choices)
    period = models.CharField(
        _("period"), max_length=8, choices=QuotaPeriod.choices, blank=True, help_text=_("Empty for live bookings.")
    )
    limit = models.PositiveIntegerField(_("at most"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("quota rule")
        verbose_name_plural = _("quota rules")
        constraints = [
            _scope_constraint("quota_rule_one_scope"),
            models.CheckConstraint(
                condition=(Q(kind="live") & Q(period="")) | (~Q(kind="live") & ~Q(period="")),
                name="quota_rule_period_matches_kind",
                violation_error_message=_("A per-period limit needs a period; a live-at-once limit has none."),
            ),
            models.CheckConstraint(condition=Q(limit__gte=1), name="quota_rule_limit_positive"),
        ]

    def __str__(self):
        scope = self.resource or self.category or gettext("all resources")
        return f"{scope}: {self.get_kind_display()} = {self.limit} {self.period}".strip()


class ClosureReason(models.TextChoices):
    HOLIDAYS = "holidays", _("holidays")
    MAINTENANCE = "maintenance", _("maintenance")
    EXAMS = "exams", _("exams")
    OTHER = "other", _("other")


class Closure(models.Model):
    """A dated closure of a resource, a category or everything: nothing may be booked from start to end."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="closures")
    category = models.CharField(_("category"), max_length=60, blank=True)
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason_kind = models.CharField(_("reason"), max_length=16, choices=ClosureReason.choices)
    reason = models.CharField(_("details"), max_length=300, blank=True, help_text=_("Shown to the users."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            _scope_constraint("closure_one_scope"),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")),
                name="closure_start_before_end",
                violation_error_message=_("The end must be after the start."),
            ),
        ]
        indexes = [models.Index(fields=["end", "start"], name="closure_end_start")]

    def __str__(self):
        scope = self.resource or self.category or gettext("all resources")
        return f"{scope}: {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} ({self.get_reason_kind_display()})"

    def reason_text(self):
        """What a user reads: the kind, and the details when there are any."""
        kind = self.get_reason_kind_display()
        return f"{kind} — {self.reason}" if self.reason else str(kind)


# --- Loans: strikes and suspensions ---------------------------------------------
# The rules that write these rows live in bookings.services (strikes_add, suspension_lift).


class StrikeReason(models.TextChoices):
    LATE_RETURN = "late_return", _("late return")
    NO_SHOW = "no_show", _("no-show")


class Strike(models.Model):
    """A mark against a user for one booking: returned late, or not picked up (no check-in).

    STRIKES_TO_SUSPEND strikes within STRIKES_WINDOW_DAYS suspend the user (Suspension).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strikes")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="strikes")
    reason = models.CharField(_("reason"), max_length=16, choices=StrikeReason.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("strike")
        verbose_name_plural = _("strikes")
        constraints = [
            # A sweep that runs twice gives one strike, not two.
            models.UniqueConstraint(fields=["booking", "reason"], name="strike_one_per_booking_and_reason"),
        ]
        indexes = [models.Index(fields=["user", "at"], name="strike_user_at")]

    def __str__(self):
        return f"{self.user}: {self.get_reason_display()} (#{self.booking_id})"


class Suspension(models.Model):
    """A user may not book until `until`, unless staff lift it earlier (lifted_by/at)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suspensions")
    start = models.DateTimeField(_("from"))
    until = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        indexes = [models.Index(fields=["user", "until"], name="suspension_user_until")]

    def __str__(self):
        return f"{self.user} until {self.until:%Y-%m-%d %H:%M}"

    def in_force(self, now):
        return self.lifted_at is None and self.start <= now < self.until


class Pool(models.Model):
    """Identical units booked by count ("2 of the 30 laptops").

    Each unit is a Resource with `pool` set, so the exclusion constraint still
    decides every race per unit; the pool row is what pool requests queue on.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")

    def __str__(self):
        return self.name


class PoolRequest(models.Model):
    """One request for `quantity` units of a pool; its bookings (one per unit) are the units handed out."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="requests", verbose_name=_("pool"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_requests")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("pool request")
        verbose_name_plural = _("pool requests")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pool_request_quantity_positive"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.pool} ×{self.quantity} {self.start:%Y-%m-%d %H:%M}"


# --- Calendar feeds ---------------------------------------------------------------
# The rules that write and read these rows live in bookings.feeds.


class CalendarToken(models.Model):
    """A user's secret calendar feed link (`/calendar/<token>.ics`).

    The token itself is not stored: it is an HMAC of `nonce` under SECRET_KEY,
    so the link can be shown again while a copy of the database alone does
    not give it; `token_hash` (its SHA-256) is what a request is looked up by.
    A user has at most one live token; renewing revokes it and makes another.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens", verbose_name=_("user")
    )
    nonce = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_token_one_live_per_user"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def revoked(self):
        return self.revoked_at is not None


# --- Recurring series (bookings.series) -------------------------------------------


class BookingSeries(models.Model):
    """A recurrence rule plus ordinary bookings, one per occurrence (Booking.series).

    `rrule` is RFC 5545 RRULE text (FREQ=WEEKLY;BYDAY=TU;UNTIL=20270131T235959),
    expanded from `dtstart` read as a wall clock in the site's time zone, so a
    weekly 09:00 stays 09:00 local across a clock change. The occurrences are
    plain bookings: the exclusion constraint, sweeps, notifications and quotas
    treat them like any other.
    """

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="series")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="booking_series")
    rrule = models.CharField(
        _("recurrence rule"), max_length=500, help_text=_("RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU")
    )
    dtstart = models.DateTimeField(
        _("first start"), help_text=_("Its local wall-clock time is kept in every occurrence.")
    )
    duration_minutes = models.PositiveIntegerField(_("length (minutes)"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="booking_series_duration_positive"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.resource} {self.rrule}"

    @property
    def duration(self):
        return timedelta(minutes=self.duration_minutes)


# --- Day timeline (bookings.timeline) ---------------------------------------------


class ResourceDayVersion(models.Model):
    """How often the bookings of one resource on one site-zone day have changed.

    Bumped (one upsert) once every booking change that touches the day has
    committed (bookings.timeline); the day timeline picture is cached under these numbers, so a day
    whose numbers are unchanged is never drawn twice.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="resource_day_version_unique"),
        ]

    def __str__(self):
        return f"{self.resource_id} {self.day}: {self.version}"


# --- The waitlist (bookings.waitlist) -----------------------------------------------


class WaitlistState(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("waitlist entry", "waiting")
    OFFERED = "offered", pgettext_lazy("waitlist entry", "offered")
    TAKEN = "taken", pgettext_lazy("waitlist entry", "taken")
    DECLINED = "declined", pgettext_lazy("waitlist entry", "declined")
    LAPSED = "lapsed", pgettext_lazy("waitlist entry", "lapsed")
    LEFT = "left", pgettext_lazy("waitlist entry", "left")


# Entries still in line: waiting, or holding an offer.
OPEN_WAITLIST_STATES = (WaitlistState.WAITING, WaitlistState.OFFERED)


class WaitlistEntry(models.Model):
    """A user waits for [start, end) of a resource, taken when they asked; first come, first offered.

    When the whole interval is bookable again, the first waiting entry gets a held
    booking (`booking`, status held) for WAITLIST_HOLD_MINUTES to take or decline.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="waitlist_entries")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    state = models.CharField(_("state"), max_length=16, choices=WaitlistState.choices, default=WaitlistState.WAITING)
    booking = models.ForeignKey(
        Booking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        verbose_name=_("offered booking"),
    )
    created_at = models.DateTimeField(_("joined at"))
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="waitlist_start_before_end"),
            # One place in line per user and interval: a second tap does not queue twice.
            models.UniqueConstraint(
                fields=["user", "resource", "start", "end"],
                condition=Q(state__in=OPEN_WAITLIST_STATES),
                name="waitlist_one_open_per_interval",
            ),
        ]
        indexes = [
            models.Index(fields=["resource", "created_at"], condition=Q(state="waiting"), name="waitlist_waiting_line"),
        ]

    def __str__(self):
        return f"{self.user} → {self.resource} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} ({self.state})"
