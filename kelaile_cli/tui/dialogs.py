"""Modal dialogs: the key help, the confirmation every write action needs, the config-set prompt and
the file prompt (upload profile, flash)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static

__all__ = ["KEYS", "ConfigScreen", "ConfirmScreen", "FileScreen", "HelpScreen", "Picked", "candidates"]

_ACTIVATE = "make it the box's active profile: {} (space toggles)"
MAX_CANDIDATES = 40  # files offered in a file prompt (a directory of thousands is typed, not listed)

KEYS = (
    ("fleet", "/", "filter rows (any column); esc clears"),
    ("fleet", "s", "sort by serial, store, state, age, rate, backlog"),
    ("fleet", "enter", "open the box under the cursor"),
    ("box", "esc", "back to the fleet"),
    ("box", "t", "test print (--write, confirmed)"),
    ("box", "r", "reboot (--write, confirmed)"),
    ("box", "c", "config set KEY=VALUE (--write, confirmed)"),
    ("box", "u", "upload a profile YAML (--write, confirmed)"),
    ("box", "f", "flash a .kfw image with progress (--write, confirmed)"),
    ("any", "?", "this help"),
    ("any", "ctrl+p", "palette: go to box, sort by, show online/…, actions"),
    ("any", "q / ctrl+c", "quit (the terminal is restored)"),
)

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 78; max-width: 100%; height: auto; border: round $accent; padding: 0 1;
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


def candidates(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Files in ``folder`` (and its ``profiles/``, ``firmware/`` subfolders) ending in ``suffixes``, sorted,
    at most ``MAX_CANDIDATES``; relative to ``folder`` when inside it."""
    found: list[str] = []
    for where in (folder, folder / "profiles", folder / "firmware"):
        try:
            names = sorted(p for p in where.iterdir() if p.is_file() and p.name.endswith(suffixes))
        except OSError:
            continue
        found += [str(p.relative_to(folder)) for p in names]
        if len(found) >= MAX_CANDIDATES:
            break
    return found[:MAX_CANDIDATES]


@dataclass(frozen=True)
class Picked:
    """A file prompt's answer."""

    path: str
    activate: bool = False


class FileScreen(ModalScreen[Picked | None]):
    """A file, typed or picked from the list (enter on either submits); esc cancels.

    ``choices`` are offered below the input; ``activate`` adds the upload-profile checkbox."""

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="FileScreen")
        + """
    FileScreen OptionList { height: auto; max-height: 10; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, placeholder: str, choices: list[str], *, activate: bool = False) -> None:
        super().__init__()
        self.title_text, self.placeholder = title, placeholder
        self.choices, self.with_activate = choices, activate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            path = Input(placeholder=self.placeholder, id="path")
            path.cursor_blink = False
            yield path
            if self.with_activate:
                yield Checkbox(_ACTIVATE.format("no"), id="activate")
            if self.choices:
                yield OptionList(*self.choices, id="choices")
            else:
                yield Static("(no matching file here: type a path)", id="none")

    def _done(self, path: str) -> None:
        path = path.strip()
        if not path:
            return
        activate = self.query_one("#activate", Checkbox).value if self.with_activate else False
        self.dismiss(Picked(path, activate))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """The label says yes/no: without colours (NO_COLOR) the box itself looks the same either way."""
        event.checkbox.label = _ACTIVATE.format("yes" if event.value else "no")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._done(event.value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._done(str(event.option.prompt))

    def action_cancel(self) -> None:
        self.dismiss(None)
