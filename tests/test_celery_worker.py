"""A real worker on a real Redis runs a tenant-aware task in the store's schema."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from customers.tasks import inventory_refresh
from gdpr_dashboard.models import InventorySnapshot
from tests.conftest import wait_for
from tests.factories import CustomerFactory


@pytest.mark.worker
def test_it_runs_a_task_in_the_store_it_was_sent_from(committed_store, celery_worker_process):
    with tenant_context(committed_store):
        CustomerFactory.create_batch(3, attributes={"age": 30})
        inventory_refresh.delay(committed_store.pk)
    connection.set_schema_to_public()
    snapshot = wait_for(lambda: InventorySnapshot.objects.filter(store=committed_store).first())
    assert snapshot.counts["customers"] == 3
    assert snapshot.counts["customers_with_crm"] == 3
