import pytest

from scrm.handover import services
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.simulator.seed import sim_seed_from_domain
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory


class Shop:
    """One store in WeCom (the live simulator): an old guide and two colleagues who can take over."""

    def __init__(self, sim, store, old: Staff):
        self.sim = sim
        self.store = store
        self.old = old
        self.bob = StaffFactory(store=store, name="李接替", userid="bob")
        self.cat = StaffFactory(store=store, name="赵接替", userid="cat")
        self.manager = StaffFactory(store=store, role=Staff.Role.MANAGER, userid="boss", name="店长")

    def customers(self, n: int, *, staff: Staff | None = None, in_wecom: bool = True, **customer_fields):
        """n customers the guide serves here, mirrored into WeCom unless in_wecom is False."""
        staff = staff or self.old
        relations = []
        for _ in range(n):
            customer = CustomerFactory(store=self.store, **customer_fields)
            relations.append(FollowRelationFactory(staff=staff, customer=customer))
        if in_wecom:
            sim_seed_from_domain()
        return relations

    def depart(self, staff: Staff | None = None) -> Staff:
        staff = staff or self.old
        self.sim.member_depart(userid=staff.userid)
        departed = services.staff_mark_departed(staff=staff, by=self.manager)
        if staff.pk == self.old.pk:
            self.old = departed
        return departed


@pytest.fixture
def shop(wecom_sim, store):
    old = StaffFactory(store=store, name="王离开", userid="alice")
    sim_seed_from_domain()
    return Shop(wecom_sim, store, old)


@pytest.fixture
def transfer_calls(monkeypatch):
    """Records every transfer call the services make (they still reach the simulator)."""
    calls: list[dict] = []

    def spy(name):
        real = getattr(api, name)

        def call(**kwargs):
            calls.append({"api": name, **kwargs})
            return real(**kwargs)

        monkeypatch.setattr(api, name, call)

    spy("transfer_customer")
    spy("resigned_transfer_customer")
    return calls
