"""The customer screens guides live in: portrait and timeline. Thin: selectors read, services write."""

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from scrm.customers import selectors, services
from scrm.customers.events import EventGroup
from scrm.customers.identity_review import review_for_customer
from scrm.customers.models import Customer, Note
from scrm.privacy.models import AccessLog
from scrm.privacy.services import access_record
from scrm.today.services import note_follow_up_close
from sidebar.forms import NoteForm, TagForm
from sidebar.lookup import customer_or_404, swaps_main
from sidebar.signin import sidebar_staff_required
from sidebar.task_views import task_items_for_chat

# --- portrait -----------------------------------------------------------------------------------


def _portrait_context(request: HttpRequest, customer: Customer, external_userid: str, **extra) -> dict:
    return {
        "p": selectors.customer_portrait(staff=request.staff, customer=customer),
        # 身份核对: suggestions and phone merges the guide can decide in one tap.
        "review": review_for_customer(customer=customer),
        "external_userid": external_userid,
        "tab": "portrait",
        **extra,
    }


@require_GET
@sidebar_staff_required
def ping(request: HttpRequest) -> HttpResponse:
    """Keeps the session alive and tells the shell it is still signed in; the benchmarks' baseline."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@sidebar_staff_required
def portrait(request: HttpRequest, external_userid: str) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    access_record(staff=request.staff, action=AccessLog.Action.VIEW, customer_id=customer.pk, request=request)
    return portrait_render(request, customer, external_userid)


def portrait_render(request: HttpRequest, customer: Customer, external_userid: str, **extra) -> HttpResponse:
    """The portrait page, or its screen for an htmx load into #main (also after an identity decision)."""
    context = _portrait_context(request, customer, external_userid, **extra)
    context["task_items"] = task_items_for_chat(request, customer, external_userid)
    template = "sidebar/portrait.html#screen" if swaps_main(request) else "sidebar/portrait.html"
    return render(request, template, context)


@require_GET
@sidebar_staff_required
def tag_picker(request: HttpRequest, external_userid: str) -> HttpResponse:
    """The tags that can be added, loaded when the guide opens the picker."""
    customer = customer_or_404(request, external_userid)
    context = {
        "p": {"tag_groups": selectors.customer_tag_groups(customer=customer)},
        "external_userid": external_userid,
    }
    return render(request, "sidebar/portrait.html#picker", context)


def _tag_edit(request: HttpRequest, external_userid: str, *, add: bool) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    form = TagForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = _portrait_context(request, customer, external_userid, tag_error=form.errors["tag"][0])
            return render(request, "sidebar/portrait.html#tags", context, status=400)
        return HttpResponse(form.errors["tag"][0], status=400)
    tag = form.cleaned_data["tag"]
    if add:
        services.customer_tag_add(customer=customer, tag=tag, staff=request.staff)
    else:
        services.customer_tag_remove(customer=customer, tag=tag, staff=request.staff)
    if request.htmx:
        context = _portrait_context(request, customer, external_userid, picker_open=request.POST.get("open") == "1")
        return render(request, "sidebar/portrait.html#tags", context)
    return redirect(reverse("sidebar:portrait", args=[external_userid]) + "#tags")


@require_POST
@sidebar_staff_required
def tag_add(request: HttpRequest, external_userid: str) -> HttpResponse:
    return _tag_edit(request, external_userid, add=True)


@require_POST
@sidebar_staff_required
def tag_remove(request: HttpRequest, external_userid: str) -> HttpResponse:
    return _tag_edit(request, external_userid, add=False)


# --- timeline -----------------------------------------------------------------------------------


def _group(value: str) -> str:
    return value if value in EventGroup.values else ""


def _new_note_form(group: str) -> NoteForm:
    return NoteForm(initial={"request_id": uuid.uuid4().hex, "group": group})


def _timeline_context(request: HttpRequest, customer: Customer, external_userid: str, **extra) -> dict:
    group = _group(request.GET.get("group", ""))
    raw_after = request.GET.get("after", "")
    after = selectors.Cursor.decode(raw_after) if raw_after else None
    return {
        "customer": customer,
        "external_userid": external_userid,
        "tab": "timeline",
        "group": group,
        "groups": selectors.TIMELINE_GROUPS,
        "after": after,
        "page": selectors.timeline_page(customer=customer, group=group, after=after),
        "form": _new_note_form(group),
        **extra,
    }


@require_GET
@sidebar_staff_required
def timeline(request: HttpRequest, external_userid: str) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    context = _timeline_context(request, customer, external_userid)
    if request.htmx and context["after"]:
        template = "sidebar/timeline.html#rows"
    elif request.htmx and request.htmx.target == "feed":
        template = "sidebar/timeline.html#feed"
    elif swaps_main(request):
        template = "sidebar/timeline.html#screen"
    else:
        template = "sidebar/timeline.html"
    return render(request, template, context)


@require_POST
@sidebar_staff_required
def note_close(request: HttpRequest, external_userid: str, note_id: int) -> HttpResponse:
    """The guide got in touch another way: the note's 下次联系 is closed without writing another note."""
    customer = customer_or_404(request, external_userid)
    note = get_object_or_404(Note, pk=note_id, customer=customer, staff=request.staff)
    note_follow_up_close(note=note, staff=request.staff)
    if not request.htmx:
        return redirect(reverse("sidebar:portrait", args=[external_userid]) + "#notes")
    return render(request, "sidebar/portrait.html#notes", _portrait_context(request, customer, external_userid))


@require_POST
@sidebar_staff_required
def note_add(request: HttpRequest, external_userid: str) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = {"customer": customer, "external_userid": external_userid, "form": form}
            return render(request, "sidebar/timeline.html#note_form", context, status=400)
        context = _timeline_context(request, customer, external_userid, form=form)
        return render(request, "sidebar/timeline.html", context, status=400)
    note = services.note_create(
        customer=customer,
        staff=request.staff,
        body=form.cleaned_data["body"],
        next_contact_on=form.cleaned_data["next_contact_on"],
        request_id=form.cleaned_data["request_id"],
    )
    if not request.htmx:
        return redirect(reverse("sidebar:timeline", args=[external_userid]))
    group = form.cleaned_data["group"]
    # The new note goes on top of the list unless a filter that hides notes is on.
    shown = group in ("", EventGroup.NOTE)
    context = {
        "customer": customer,
        "external_userid": external_userid,
        "form": _new_note_form(group),
        "new_event": selectors.note_event(note=note) if shown else None,
    }
    return render(request, "sidebar/timeline.html#note_added", context)
