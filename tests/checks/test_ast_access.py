"""The access rules of the AST policy: no files, network, processes, environment,
dynamic code or introspection escapes in strategy code."""

from __future__ import annotations

import pytest

from alphaloop.checks import Finding

from .conftest import Check


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.message for f in findings]
    return findings[0]


@pytest.mark.parametrize(("code", "check_name", "rule"), [
    ("open('prices.csv')", "ast.access", "forbidden-builtin"),
    ("f = open", "ast.access", "forbidden-builtin"),
    ("eval('1 + 1')", "ast.dynamic", "forbidden-builtin"),
    ("exec('x = 1')", "ast.dynamic", "forbidden-builtin"),
    ("code = compile('1', 'f', 'eval')", "ast.dynamic", "forbidden-builtin"),
    ("m = __import__('os')", "ast.dynamic", "forbidden-builtin"),
    ("g = globals()", "ast.introspection", "forbidden-builtin"),
    ("v = vars()", "ast.introspection", "forbidden-builtin"),
    ("loc = locals()", "ast.introspection", "forbidden-builtin"),
    ("b = __builtins__", "ast.introspection", "forbidden-builtin"),
    ("o = __builtins__.open", "ast.introspection", "forbidden-builtin"),
    ("name = input()", "ast.access", "forbidden-builtin"),
    ("breakpoint()", "ast.access", "forbidden-builtin"),
    ("d = obj.__dict__", "ast.introspection", "forbidden-attribute"),
    ("f = func.__globals__", "ast.introspection", "forbidden-attribute"),
    ("c = ().__class__.__bases__", "ast.introspection", "forbidden-attribute"),
    ("s = object.__subclasses__()", "ast.introspection", "forbidden-attribute"),
    ("code = f.__code__", "ast.introspection", "forbidden-attribute"),
    ("frame = gen.gi_frame", "ast.introspection", "forbidden-attribute"),
    ("x = getattr(obj, '__dict__')", "ast.introspection", "forbidden-attribute"),
    ("x = getattr(obj, '__subcl' 'asses__')", "ast.introspection", "forbidden-attribute"),
    ("g = frame.f_globals", "ast.introspection", "forbidden-attribute"),
    ("df.to_csv('out.csv')", "ast.access", "forbidden-method"),
    ("df.to_pickle('out.pkl')", "ast.access", "forbidden-method"),
    ("array.tofile('a.bin')", "ast.access", "forbidden-method"),
    ("array.dump('a.pkl')", "ast.access", "forbidden-method"),
    ("text = df.to_json('out.json')", "ast.access", "forbidden-method"),
    ("text = df.to_string(buf=handle)", "ast.access", "forbidden-method"),
])
def test_forbidden_access(check: Check, code: str, check_name: str, rule: str) -> None:
    finding = one(check(code + "\n"))
    assert (finding.check, finding.severity, finding.line) == (check_name, 3, 1)
    assert finding.evidence["rule"] == rule
    assert finding.evidence["snippet"] == code


@pytest.mark.parametrize("code", [
    "import numpy as np\nx = np.load('a.npy')",
    "import numpy as np\nnp.save('a.npy', x)",
    "import numpy as np\nx = np.loadtxt('a.txt')",
    "import numpy as np\nx = np.genfromtxt('a.txt')",
    "import numpy as np\nx = np.memmap('a.bin')",
    "import numpy as np\nsource = np.DataSource()",
    "import numpy\nx = numpy.fromfile('a.bin')",
    "import pandas as pd\nx = pd.read_csv('http://example.com/prices.csv')",
    "import pandas as pd\nx = pd.read_parquet('a.parquet')",
    "import pandas as pd\nstore = pd.HDFStore('a.h5')",
    "import logging\nhandler = logging.FileHandler('log.txt')",
    "import numpy as np\nx = getattr(np, 'load')('a.npy')",
])
def test_file_functions_of_allowed_libraries(check: Check, code: str) -> None:
    finding = one(check(code + "\n"))
    assert (finding.check, finding.line, finding.evidence["rule"]) == (
        "ast.access", 2, "forbidden-name")


def test_importing_a_file_function_by_name(check: Check) -> None:
    findings = check("from numpy import load as ld\nx = ld('a.npy')\n")
    assert [(f.check, f.line) for f in findings] == [("ast.imports", 1), ("ast.access", 2)]


def test_aliases_made_by_assignment_are_followed(check: Check) -> None:
    findings = check("""\
        import numpy as np
        lib = np
        x = lib.load("a.npy")
        """)
    assert [(f.line, f.evidence["rule"]) for f in findings] == [(3, "forbidden-name")]


def test_restricted_module_names(check: Check) -> None:
    assert check("""\
        import json
        text = json.dumps({"a": 1})
        data = json.loads(text)
        try:
            json.loads("{")
        except json.JSONDecodeError:
            pass
        """) == []
    finding = one(check("import json\nwith_file = json.load\n"))
    assert (finding.line, finding.evidence["rule"]) == (2, "restricted-module")
    finding = one(check("import json\nmodule = json\n"))
    assert "the json module itself" in finding.message
    finding = one(check("import inspect\nframe = inspect.currentframe()\n"))
    assert finding.evidence["rule"] == "restricted-module"
    finding = one(check("import types\nmake = types.CodeType\n"))
    assert (finding.line, finding.evidence["rule"]) == (2, "restricted-module")


def test_every_escape_in_a_chain_is_reported(check: Check) -> None:
    findings = check("g = frame.f_back.f_globals\n")
    assert sorted(f.evidence["name"] for f in findings) == ["f_back", "f_globals"]


def test_dynamic_access_to_modules(check: Check) -> None:
    finding = one(check("import numpy as np\nf = getattr(np, name)\n"))
    assert (finding.check, finding.evidence["rule"]) == ("ast.dynamic", "dynamic-attribute")
    finding = one(check("import numpy as np\nsetattr(np, 'sum', None)\n"))
    assert (finding.check, finding.evidence["rule"]) == ("ast.dynamic", "module-write")
    finding = one(check("import numpy as np\nnp.sum = len\n"))
    assert (finding.check, finding.evidence["rule"]) == ("ast.dynamic", "module-write")
    # the strategy's own modules may be read by name (e.g. tunables)
    assert check("from strategy import tunables\nx = getattr(tunables, name)\n") == []


def test_ordinary_strategy_code_passes(check: Check) -> None:
    assert check('''\
        """Momentum with a volatility scale."""

        from __future__ import annotations

        import logging
        import math
        from dataclasses import dataclass, field

        import numpy as np
        import pandas as pd
        from scipy import optimize

        from alphaloop.contract import Decision, MarketView, PortfolioState

        log = logging.getLogger(__name__)


        @dataclass(frozen=True)
        class Momentum:
            lookback: int = 126
            names: list[str] = field(default_factory=list)

            def __post_init__(self) -> None:
                object.__setattr__(self, "names", list(self.names))

            def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
                prices = view.price_frame().tail(self.lookback)
                score = prices.iloc[-1] / prices.iloc[0] - 1.0
                vol = np.sqrt(252) * prices.pct_change().std()
                raw = (score / vol).clip(lower=0).fillna(0.0)
                total = float(raw.sum()) or 1.0
                weights = {t: min(0.15, float(w) / total) for t, w in raw.items()}
                summary = pd.Series(weights).to_json()
                log.info("weights %s", summary)
                res = optimize.minimize_scalar(lambda x: (x - 1.0) ** 2)
                return Decision(weights=weights, record={"fit": float(res.x), "pi": math.pi,
                                                         "type": type(self).__name__})
        ''') == []


def test_each_finding_carries_path_line_and_snippet(check: Check) -> None:
    findings = check("x = 1\n\n\ny = eval('2')\n", "strategy/experts/stock.py")
    finding = one(findings)
    assert finding.path == "strategy/experts/stock.py"
    assert finding.line == 4
    assert finding.evidence["snippet"] == "y = eval('2')"
    assert "eval" in finding.message


def test_syntax_errors_block(check: Check) -> None:
    finding = one(check("def broken(:\n    pass\n"))
    assert (finding.check, finding.severity, finding.line) == ("ast.syntax", 3, 1)


@pytest.mark.parametrize("code", [
    "text = df.to_json()",
    "table = df.to_string()",
    "data = df.to_dict()",
    "values = frame.to_numpy()",
    "name = obj.__class__.__name__",
    "doc = func.__doc__",
    "value = getattr(obj, 'weights')",
    "value = getattr(obj, name, None)",
    "import numpy as np\nn = np.linalg.norm(np.ones(3))",
    "import numpy as np\nrng = np.random.default_rng(7)",
    "import pandas as pd\nframe = pd.DataFrame({'a': [1]})",
    "import json\ntext = json.dumps({'a': 1})",
    "payload = model.model_dump_json()",
    "print('weights', 0.1)",
    "load = 3\nx = load + 1",
    "def compile_weights(x):\n    return x",
])
def test_ordinary_names_pass(check: Check, code: str) -> None:
    assert check(code + "\n") == []
