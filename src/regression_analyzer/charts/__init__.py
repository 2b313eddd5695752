"""The charts of a fitted regression: which PNGs, what each shows, and drawing them.

plan     which charts and their file names: ChartData (the fit as plain arrays) in, a small
         sampled ChartInput and one ChartJob per PNG out; start_charts hands the jobs out.
input    ChartInput, all that a drawing receives (numpy only, no pandas).
drawing  the PNGs themselves (matplotlib, Agg); imported only where charts are drawn.
workers  ChartWorkers: draw here, or on drawing processes that load matplotlib early.

Import each name from its module: importing this package loads nothing, so that
`from regression_analyzer.charts.workers import ChartWorkers`, a command's first step, starts
the drawing processes without waiting for pandas and scipy, which the planning needs.
"""
