# Makes `cronium` available in every script without an import.
import builtins

import cronium

builtins.cronium = cronium
