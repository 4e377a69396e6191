"""Webhooks: what a run announces, how it is signed, and its at-least-once delivery.

`config` reads `[notify]` and `AISYNC_WEBHOOK_URL`; `body` builds each notification a
run owes before the run closes (the ledger writes them to the `notifications` outbox in
the closing transaction); `delivery` posts what is due, signed, after the commit. The
built-in plugin `aisync.notify.plugin` calls the delivery from `sync_finished`, like
any external notifier plugin would. Nothing is imported here: `aisync.settings` reads
`config` at start-up.
"""
