"""Modal dialogs: the key help, the confirmation every write action needs, the config-set prompt."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

__all__ = ["KEYS", "ConfigScreen", "ConfirmScreen", "HelpScreen"]

KEYS = (
    ("fleet", "/", "filter rows (any column); esc clears"),
    ("fleet", "s", "sort: serial → store → state → last receipt → rate → backlog"),
    ("fleet", "enter", "open the box under the cursor"),
    ("box", "esc", "back to the fleet"),
    ("box", "t", "test print (--write, confirmed)"),
    ("box", "r", "reboot (--write, confirmed)"),
    ("box", "c", "config set KEY=VALUE (--write, confirmed)"),
    ("any", "?", "this help"),
    ("any", "ctrl+p", "command palette"),
    ("any", "q / ctrl+c", "quit (the terminal is restored)"),
)

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 72; max-width: 100%; height: auto; border: round $accent; padding: 0 1;
                     background: $panel; }}
"""


class HelpScreen(ModalScreen[None]):
    """Every key, by screen."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="HelpScreen")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        lines = ["[b]klx monitor keys[/b]", ""]
        lines += [f"{where:<6} {key:<11} {what}" for where, key, what in KEYS]
        lines += ["", "Read-only unless started with --write. esc closes."]
        with Vertical():
            yield Static("\n".join(lines), markup=True)


class ConfirmScreen(ModalScreen[bool]):
    """Yes (``y``) or no (``n``/esc) to one write action."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self.question}\n\n[b]y[/b] yes · [b]n[/b]/esc no", markup=True, id="question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConfigScreen(ModalScreen[str | None]):
    """Asks for ``KEY=VALUE`` (enter submits, esc cancels)."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfigScreen")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Config set: KEY=VALUE (e.g. store=S-0042); enter applies after a confirmation")
            yield Input(placeholder="key=value", id="kv")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
