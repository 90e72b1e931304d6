"""A host's inbox: the files of its INPUT_DIR that did not start (refused, or still being
copied), held by one small workflow a host (id `inbox-<task queue>@<host>`), so every machine
that reaches Temporal sees them: `pending`, `status <file>` and the web chooser ask it.

The host's watcher sends the whole list whenever it changes (signal-with-start); the workflow
only keeps the latest and answers a query. It continues as new before its history grows long."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporal.messages import (
        INBOX_QUERY,
        INBOX_SIGNAL,
        INBOX_WORKFLOW_TYPE,
        InboxFile,
        InboxInput,
    )


@workflow.defn(name=INBOX_WORKFLOW_TYPE)
class HostInboxWorkflow:
    def __init__(self) -> None:
        self._files: list[InboxFile] = []
        self._updates = 0

    @workflow.run
    async def run(self, start: InboxInput) -> None:
        if not self._updates:  # a signal sent with the start comes before the run
            self._files = list(start.files)
        await workflow.wait_condition(lambda: self._updates >= start.max_updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(InboxInput(self._files, start.max_updates))

    @workflow.signal(name=INBOX_SIGNAL)
    def replace(self, files: list[InboxFile]) -> None:
        self._files = list(files)
        self._updates += 1

    @workflow.query(name=INBOX_QUERY)
    def files(self) -> list[InboxFile]:
        return self._files
