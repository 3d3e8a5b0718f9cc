"""The `RingsideCustomerId` search attribute: an operator lists one customer's deliveries in the
Temporal UI with `RingsideCustomerId = "cus_…"`. Registered by the worker at start (the dev server
and a cluster both accept it from the operator API); where that is refused, deliveries still carry
the customer at the head of their workflow id and in their memo."""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

log = logging.getLogger("ringside.webhooks")
CUSTOMER_ID = SearchAttributeKey.for_keyword("RingsideCustomerId")


async def ensure_customer_attribute(client: Client, namespace: str) -> bool:
    """True once the attribute exists on `namespace` (registered now if needed)."""
    try:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        if CUSTOMER_ID.name in listed.custom_attributes:
            return True
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={CUSTOMER_ID.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
            )
        )
        return True
    except RPCError as error:
        log.warning("search attribute %s unavailable (%s); use the workflow id prefix", CUSTOMER_ID.name, error)
        return False


def customer_attributes(customer_id: str) -> TypedSearchAttributes:
    if not customer_id:
        return TypedSearchAttributes.empty
    return TypedSearchAttributes([SearchAttributePair(CUSTOMER_ID, customer_id)])
