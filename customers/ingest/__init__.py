"""Collection: the one write path for tracked events and synced customers, orders and products.

The API (v1 batch, v2 single calls) and ``seed_demo`` all come through here.
Each call takes validated records (``customers.ingest.schemas``), the store
explicitly, and writes set-based in one transaction in the store's schema.

Before anything is written, in this order:

1. **Collection settings**: e-mail addresses are dropped unless
   ``store.collect_emails`` (an ``email`` event then stores nothing at all);
   CRM attributes are cut to ``store.crm_fields``; with ``track_browsing`` off
   no visitor is created and page views, product views, clicks and category
   views are dropped (a sale is still kept as an order, without a visitor).
2. **Suppression**: a record naming a forgotten e-mail, customer id or visitor
   id (by keyed digest) is dropped if its time is before the forget; newer
   activity passes. Customer records carry no event time unless they send
   ``time``, so a forgotten customer's old CRM record is always blocked.

Visitors are created on demand and their statistics kept: first/last seen,
visits (a new visit after 30 minutes without activity), distinct visit days
and total duration (the time between events of one visit). Events older than
a visitor's last activity (arriving out of order) widen ``first_seen`` but do
not add visits; send events in time order for exact statistics.
"""
