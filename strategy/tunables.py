"""The FinSage tunables: the named values a research hypothesis edits.

One plain literal assignment per tunable, each with a comment saying what it does. A
change to the strategy's behaviour that needs no new code is an edit of these values,
readable in a diff. Every name here is declared, with its kind and allowed range, in
:mod:`strategy.parameters` (a test checks both stay in step); the profiles in
:mod:`strategy.config` read these values into ``FinSageConfig.params``.

Keep this file flat: literals only (numbers and strings), no computation, no imports.
"""

# -- signals: price history windows ------------------------------------------------------
MOMENTUM_LOOKBACK_DAYS = 252  # trading days of the momentum window (12 months)
MOMENTUM_SKIP_DAYS = 21  # most recent days left out of momentum (the "12-1" month rule)
VOLATILITY_LOOKBACK_DAYS = 63  # trading days used for realised volatility (3 months)
FUNDAMENTAL_HISTORY_DAYS = 252  # days of a fundamental's own history it is compared with
GROWTH_HORIZON_DAYS = 63  # horizon of network / adoption growth rates (crypto factors)

# -- covariance estimation ----------------------------------------------------------------
COVARIANCE_LOOKBACK_DAYS = 252  # trading days of returns behind the covariance matrix
COVARIANCE_SHRINKAGE = "ledoit_wolf"  # covariance estimator: ledoit_wolf or sample

# -- experts: factor and LLM blending ---------------------------------------------------------
FACTOR_WEIGHT = 0.4  # weight of the factor view against the LLM view (spec: 40% / 60%)
FACTOR_CROSS_SECTION_WEIGHT = 0.5  # share of a factor score from ranking within the class
FACTOR_SIGNAL_THRESHOLD = 0.25  # composite z-score beyond which a factor says BUY / SELL
FACTOR_STRONG_SIGNAL_THRESHOLD = 1.0  # composite z-score for STRONG_BUY / STRONG_SELL
FACTOR_INFORMATION_COEFFICIENT = 0.05  # IC turning a composite z-score into expected alpha
LLM_MAX_RETRIES = 2  # times an expert asks the LLM again after an invalid JSON answer

# -- experts: factor weights inside each class (relative; normalised per class) -------------
STOCK_WEIGHT_PROFITABILITY = 1.0  # Fama-French RMW: robust minus weak profitability
STOCK_WEIGHT_VALUE = 1.0  # Fama-French HML: high book-to-market, high earnings yield
STOCK_WEIGHT_SIZE = 0.5  # Fama-French SMB: small minus big
STOCK_WEIGHT_INVESTMENT = 0.5  # Fama-French CMA: conservative minus aggressive asset growth
STOCK_WEIGHT_MOMENTUM = 1.0  # 12-1 month price momentum
BOND_WEIGHT_CARRY = 1.0  # yield to maturity above the short rate
BOND_WEIGHT_VALUE = 1.0  # credit spread wide of its own history
BOND_WEIGHT_LOW_RISK = 0.5  # short duration (or low volatility without duration data)
BOND_WEIGHT_MOMENTUM = 1.0  # 12-1 month price momentum
COMMODITY_WEIGHT_TERM_STRUCTURE = 1.0  # roll yield: backwardation buys, contango sells
COMMODITY_WEIGHT_MOMENTUM = 1.0  # 12-1 month price momentum
COMMODITY_WEIGHT_BASIS = 0.5  # spot above the front future buys
REITS_WEIGHT_NAV_DISCOUNT = 1.0  # trading cheaper against NAV than usual buys
REITS_WEIGHT_SECTOR_OUTLOOK = 1.0  # property-sector outlook score
REITS_WEIGHT_IDIOSYNCRATIC_RISK = 0.5  # low residual volatility against the class
CRYPTO_WEIGHT_NETWORK_EFFECT = 1.0  # growth of active addresses
CRYPTO_WEIGHT_ADOPTION = 1.0  # growth of on-chain transaction volume
CRYPTO_WEIGHT_CRASH_RISK = 1.0  # low volatility, skew and drawdown risk

# -- portfolio construction -------------------------------------------------------------------
EXPERT_TILT_STRENGTH = 0.5  # how far a bullish / bearish class view moves toward max / min
PORTFOLIO_OPTIMIZER = "risk_parity"  # optimiser the portfolio manager uses inside a class
HEDGING_OPTIMIZER = "min_variance"  # optimiser the hedging toolkit uses for hedge baskets
SIZING_METHOD = "risk_parity"  # position sizing: equal_weight, risk_parity, ... (spec 4.4)
RISK_AVERSION = 2.5  # risk-aversion coefficient of mean-variance and Black-Litterman
REBALANCE_THRESHOLD = 0.02  # trade only when some weight moves by more than this
VOLATILITY_SCALING_STRENGTH = 1.0  # 0 = off, 1 = scale exposure fully to the target vol

# -- hedging triggers -------------------------------------------------------------------------
HEDGE_VIX_TRIGGER = 25.0  # VIX above which safe-haven hedging replaces option hedges
HEDGE_SKEW_TRIGGER = -0.5  # portfolio return skew below which tail protection is added
HEDGE_KURTOSIS_TRIGGER = 6.0  # raw kurtosis above which tails count as fat (normal is 3)
HEDGE_VAR_TRIGGER = 0.02  # daily 95% VaR loss above which the portfolio is hedged
HEDGE_MAX_RATIO = 0.25  # largest share of the portfolio a hedge may move

# -- manager coordination and drawdown control ---------------------------------------------
MAX_DISCUSSION_ROUNDS = 2  # rounds of revision between the managers (spec: max_rounds=2)
CONSENSUS_SIZING_TOLERANCE = 0.05  # total position change below which sizing has converged
CONSENSUS_HEDGE_TOLERANCE = 0.02  # hedge-ratio change below which hedging has converged
DRAWDOWN_DERISK_FACTOR = 0.25  # share of risky exposure kept once the drawdown trigger hits
DRAWDOWN_COOLDOWN_DAYS = 21  # trading days de-risking lasts before drawdown is re-measured

# -- managers and risk controller ----------------------------------------------------------
REGIME_TILT_STRENGTH = 0.5  # how far high volatility moves bonds and cash toward their max
CONVICTION_CONFIDENCE = 0.6  # expert confidence above which a class uses Black-Litterman
KELLY_FRACTION = 0.5  # fraction of the Kelly bet taken by Kelly position sizing (spec: half)
DIVERSIFICATION_BLEND = 0.5  # share moved toward max diversification on a soft-limit breach
