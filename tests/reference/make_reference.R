#!/usr/bin/env Rscript
# =============================================================================
# make_reference.R -- independent reference values from R for the regression
# tool's test-suite.
#
# This script writes
#   tests/reference/data/<dataset>.csv     the input tables (R datasets and
#                                          seeded synthetic data)
#   tests/reference/expected/<case>.json   one JSON file per regression case
#                                          with coefficients, fit statistics,
#                                          diagnostics and per-row values
# so that the Python tests can compare the tool's output against R without
# needing R at test time.
#
# Every CSV is written with write.csv(row.names = FALSE, na = "NA") and then
# read back with read.csv(); all models are fitted on the data AS READ BACK, so
# R and the Python tool see exactly the same numbers. Synthetic data are
# generated with fixed seeds and rounded to 6 decimals before writing.
#
# Conventions (mirroring the tool):
#   * intercept -> "Intercept"; dummy for level L of column C -> "C[T.L]"
#   * reference level of a categorical predictor = most frequent level, ties
#     broken by the first level in plain codepoint (C-locale) order; the other
#     levels follow in codepoint order (sort(method = "radix"))
#   * a row is identified by its CSV line number (header = line 1)
#   * listwise deletion over the target and the model's predictors only
#
# The committed output was produced with:
#   R version 4.2.2 Patched (2022-11-10 r83330)
#   car 3.1.1, lmtest 0.9.40, sandwich 3.0.2, tseries 0.10.53, MASS 7.3.58.2,
#   jsonlite 1.8.4   (all Debian packages)
# The versions actually used are also recorded in every JSON file
# ("r_version", "packages").
#
# To regenerate (from the repository root, /work/main):
#   apt-get install r-base-core r-cran-car r-cran-lmtest r-cran-sandwich \
#                   r-cran-tseries r-cran-jsonlite
#   Rscript tests/reference/make_reference.R
# The output is deterministic (set.seed for synthetic data).
# =============================================================================

suppressPackageStartupMessages({
  library(stats)
  library(car)
  library(lmtest)
  library(sandwich)
  library(tseries)
  library(MASS)
  library(jsonlite)
})

# ---- locations ---------------------------------------------------------------
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grepl("^--file=", a)])
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path("tests", "reference")
})
data_dir <- file.path(script_dir, "data")
expected_dir <- file.path(script_dir, "expected")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
dir.create(expected_dir, showWarnings = FALSE, recursive = TRUE)

r_version <- R.version.string
pkg_names <- c("car", "lmtest", "sandwich", "tseries", "MASS", "jsonlite")
packages <- setNames(lapply(pkg_names, function(p) as.character(packageVersion(p))), pkg_names)

t_start <- Sys.time()

# ---- helpers -----------------------------------------------------------------
write_and_read <- function(df, file) {
  path <- file.path(data_dir, file)
  write.csv(df, path, row.names = FALSE, na = "NA")
  back <- read.csv(path, stringsAsFactors = FALSE)
  stopifnot(identical(dim(back), dim(df)), identical(names(back), names(df)))
  back
}

round_numeric <- function(df, digits = 6) {
  for (v in names(df)) if (is.double(df[[v]])) df[[v]] <- round(df[[v]], digits)
  df
}

# tool rule: most frequent level, ties -> first in codepoint order
reference_level <- function(x) {
  x <- x[!is.na(x)]
  tab <- table(x)
  cands <- names(tab)[tab == max(tab)]
  sort(cands, method = "radix")[1L]
}

make_factor <- function(x, ref) {
  lv <- sort(setdiff(unique(x), ref), method = "radix")
  factor(x, levels = c(ref, lv))
}

num <- function(x) as.numeric(unname(x))

# warnings are collected per case and tagged with the stage that raised them;
# a separation / non-convergence warning outside the profiling stage is fatal
.stage <- new.env()
run_case <- function(case, file, d, target, features, robust, kind, event = NULL) {
  cat(sprintf("-- %s\n", case))
  warns <- character(0)
  stages <- character(0)
  .stage$name <- "fit"
  res <- withCallingHandlers(
    run_case_inner(case, file, d, target, features, robust, kind, event),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      stages <<- c(stages, .stage$name)
      invokeRestart("muffleWarning")
    })
  if (length(warns)) {
    key <- paste0("[", stages, "] ", warns)
    cnt <- table(key)
    cat(sprintf("   WARNING(S) in %s:\n", case))
    for (k in unique(key)) cat(sprintf("      %s  (x%d)\n", k, cnt[[k]]))
  }
  bad <- grepl("fitted probabilities numerically 0 or 1|did not converge", warns) & stages != "profile"
  if (any(bad)) stop(sprintf("case %s: glm separation / convergence problem", case))
  res
}

# exact profile-likelihood CI by root finding, used to cross-check MASS's
# spline-interpolated confint(). The restricted maximisation (one coefficient
# fixed, entering as an offset) is a concave problem solved by Newton's method
# with step halving.
logit_loglik <- function(eta, y) sum(y * eta - ifelse(eta > 0, eta + log1p(exp(-eta)), log1p(exp(eta))))
max_loglik_offset <- function(Z, y, off, start) {
  g <- start
  ll <- logit_loglik(drop(Z %*% g) + off, y)
  for (it in 1:500) {
    eta <- drop(Z %*% g) + off
    p <- plogis(eta)
    grad <- crossprod(Z, y - p)
    H <- crossprod(Z * (p * (1 - p)), Z)
    delta <- drop(solve(H, grad))
    t <- 1
    repeat {
      ll_new <- logit_loglik(drop(Z %*% (g + t * delta)) + off, y)
      if (ll_new >= ll - 1e-12 || t < 1e-10) break
      t <- t / 2
    }
    g <- g + t * delta
    done <- abs(ll_new - ll) < 1e-13 && max(abs(t * delta)) < 1e-9
    ll <- ll_new
    if (done) return(ll)
  }
  stop("profile maximisation did not converge")
}
exact_profile_ci <- function(m, level = 0.95) {
  X <- model.matrix(m); y <- m$y; b <- coef(m); se <- sqrt(diag(vcov(m)))
  ll_max <- as.numeric(logLik(m)); crit <- qchisq(level, 1)
  t(vapply(seq_along(b), function(j) {
    g <- function(bj)
      2 * (ll_max - max_loglik_offset(X[, -j, drop = FALSE], y, bj * X[, j], b[-j])) - crit
    step <- 2 * se[j]
    lo <- b[j] - step; while (g(lo) < 0) lo <- lo - step
    hi <- b[j] + step; while (g(hi) < 0) hi <- hi + step
    c(uniroot(g, c(lo, b[j]), tol = 1e-12)$root, uniroot(g, c(b[j], hi), tol = 1e-12)$root)
  }, numeric(2)))
}

run_case_inner <- function(case, file, d, target, features, robust, kind, event) {
  cols <- c(target, features)
  cc <- complete.cases(d[, cols, drop = FALSE])
  lines <- (seq_len(nrow(d)) + 1L)[cc]
  dd <- d[cc, cols, drop = FALSE]
  rownames(dd) <- NULL

  # categorical predictors -> factors with the tool's reference level
  reference_levels <- structure(list(), names = character(0))
  name_map <- c("(Intercept)" = "Intercept")
  for (v in features) {
    if (is.character(dd[[v]])) {
      ref <- reference_level(dd[[v]])
      ref_whole <- reference_level(d[[v]])
      if (!identical(ref, ref_whole))
        cat(sprintf("   NOTE: %s: reference level of %s on used rows (%s) differs from whole column (%s)\n",
                    case, v, ref, ref_whole))
      tab <- table(dd[[v]])
      if (sum(tab == max(tab)) > 1L)
        cat(sprintf("   NOTE: %s: tie for most frequent level of %s (%s, n=%d) -> %s\n",
                    case, v, paste(sort(names(tab)[tab == max(tab)], method = "radix"), collapse = ", "),
                    max(tab), ref))
      dd[[v]] <- make_factor(dd[[v]], ref)
      reference_levels[[v]] <- ref
      for (l in levels(dd[[v]])[-1L])
        name_map[paste0(v, l)] <- paste0(v, "[T.", l, "]")
    }
  }

  # binary target for logit
  if (kind == "logit") {
    y <- dd[[target]]
    if (is.character(y)) {
      other <- setdiff(unique(y), event)
      stopifnot(length(other) == 1L, event %in% y)
      dd[[target]] <- factor(y, levels = c(other, event))
    } else {
      stopifnot(all(y %in% c(0, 1)), event == "1")
    }
  }

  fml <- reformulate(features, response = target)
  fit <- function(f) {
    if (kind == "ols") return(do.call("lm", list(formula = f, data = dd)))
    # glm's default epsilon (1e-8) stops IRLS while its standard errors, which come from the
    # weights of the previous iteration, are still ~1e-5 (relative) away from those at the
    # maximum. Converging fully, then refitting from the maximum (one more iteration, whose
    # weights are the maximum's), makes the reference the maximum-likelihood answer itself.
    control <- glm.control(epsilon = 1e-14, maxit = 100)
    args <- list(formula = f, family = binomial(link = "logit"), data = dd, control = control)
    first <- do.call("glm", args)
    do.call("glm", c(args, list(start = coef(first))))
  }
  m <- fit(fml)
  stopifnot(!any(is.na(coef(m))))
  if (kind == "logit") stopifnot(m$converged, !m$boundary)
  rn <- names(coef(m))
  stopifnot(all(rn %in% names(name_map) | rn %in% features))
  tool_name <- function(x) ifelse(x %in% names(name_map), name_map[x], x)
  n <- nobs(m)
  X <- model.matrix(m)

  out <- list(
    case = case, file = file, target = target, features = I(features),
    robust = robust, kind = kind, event = if (is.null(event)) NULL else as.character(event),
    reference_levels = reference_levels,
    n_obs = n, rows_dropped = nrow(d) - n,
    r_version = r_version, packages = packages
  )

  # ---- coefficients ----
  sm <- summary(m)$coefficients
  est <- coef(m)
  if (robust) {
    V <- vcovHC(m, type = "HC3")
    ct <- coeftest(m, vcov. = V)
    ci <- coefci(m, vcov. = V)
  } else {
    ct <- sm
    ci <- if (kind == "ols") confint(m) else confint.default(m)
  }
  if (kind == "logit") {
    .stage$name <- "profile"
    prof <- suppressMessages(confint(m))  # MASS profile likelihood (plain model)
    prof_exact <- exact_profile_ci(m)
    .stage$name <- "fit"
    rel <- max(abs(prof - prof_exact) / pmax(abs(prof_exact), 1e-8))
    cat(sprintf("   profile CI: max relative difference MASS confint vs exact root = %.2e\n", rel))
  }
  coefs <- lapply(seq_along(est), function(i) {
    e <- list(
      name = tool_name(rn[i]),
      estimate = num(est[i]),
      std_error = num(ct[i, 2]),
      statistic = num(ct[i, 3]),
      p_value = num(ct[i, 4]),
      ci_low = num(ci[i, 1]),
      ci_high = num(ci[i, 2])
    )
    if (robust) e$std_error_nonrobust <- num(sm[i, 2])
    if (kind == "logit") {
      e$odds_ratio <- exp(num(est[i]))
      e$odds_ratio_ci_low <- exp(num(ci[i, 1]))
      e$odds_ratio_ci_high <- exp(num(ci[i, 2]))
      e$profile_ci_low <- num(prof[i, 1])
      e$profile_ci_high <- num(prof[i, 2])
      e$profile_ci_low_exact <- num(prof_exact[i, 1])
      e$profile_ci_high_exact <- num(prof_exact[i, 2])
    }
    e
  })
  out$coefficients <- coefs

  # ---- fit statistics ----
  ll <- logLik(m)
  if (kind == "ols") {
    s <- summary(m)
    fs <- s$fstatistic
    out$r_squared <- s$r.squared
    out$adj_r_squared <- s$adj.r.squared
    out$sigma <- s$sigma
    f_classic <- num(fs["value"])
    if (robust) {
      wt <- waldtest(m, vcov = vcovHC(m, type = "HC3"), test = "F")
      out$f_statistic <- num(wt$F[2])
      out$f_df1 <- abs(num(wt$Df[2]))
      out$f_df2 <- num(wt$Res.Df[1])
      out$f_p_value <- num(wt[["Pr(>F)"]][2])
      out$f_statistic_nonrobust <- f_classic
    } else {
      out$f_statistic <- f_classic
      out$f_df1 <- num(fs["numdf"])
      out$f_df2 <- num(fs["dendf"])
      out$f_p_value <- pf(f_classic, fs["numdf"], fs["dendf"], lower.tail = FALSE)[[1]]
    }
    out$rss <- deviance(m)
  }
  out$log_likelihood <- as.numeric(ll)
  out$aic_r <- AIC(m)
  out$bic_r <- BIC(m)
  out$df_logLik <- as.integer(attr(ll, "df"))
  if (kind == "logit") {
    m0 <- fit(reformulate("1", response = target))
    out$deviance <- deviance(m)
    out$null_deviance <- m$null.deviance
    out$lr_statistic <- m$null.deviance - deviance(m)
    out$lr_df <- as.integer(m$df.null - m$df.residual)
    out$lr_p_value <- pchisq(out$lr_statistic, out$lr_df, lower.tail = FALSE)
    out$mcfadden_r2 <- 1 - as.numeric(ll) / as.numeric(logLik(m0))
    out$accuracy <- mean((fitted(m) >= 0.5) == (m$y == 1))
  }
  out$condition_number <- kappa(X, exact = TRUE)

  # ---- lm diagnostics ----
  if (kind == "ols") {
    bp <- bptest(m)
    out$breusch_pagan <- list(statistic = num(bp$statistic), df = num(bp$parameter),
                              p_value = num(bp$p.value))
    jb <- jarque.bera.test(residuals(m))
    # tseries computes p as 1 - pchisq(), which cancels to 0 below ~1e-16; the upper tail
    # is also given, computed without the cancellation.
    out$jarque_bera <- list(statistic = num(jb$statistic), p_value = num(jb$p.value),
                            p_value_upper_tail = num(pchisq(jb$statistic, df = 2,
                                                            lower.tail = FALSE)))
    dw <- dwtest(m)
    out$durbin_watson <- list(statistic = num(dw$statistic), p_value = num(dw$p.value),
                              method = if (n < 100) "exact" else "normal approximation")
  }

  # ---- VIF ----
  Xn <- X[, -1, drop = FALSE]
  vc <- diag(solve(cor(Xn)))
  out$vif_columns <- setNames(as.list(num(vc)), tool_name(colnames(Xn)))
  gv <- car::vif(m)
  if (is.matrix(gv)) {
    out$gvif <- lapply(rownames(gv), function(t)
      list(term = t, gvif = num(gv[t, 1]), df = as.integer(gv[t, 2]), gvif_adjusted = num(gv[t, 3])))
  } else {
    out$gvif <- lapply(names(gv), function(t)
      list(term = t, gvif = num(gv[t]), df = 1L, gvif_adjusted = sqrt(num(gv[t]))))
  }

  # ---- Type II ANOVA ----
  if (kind == "ols") {
    if (robust) {
      a <- suppressMessages(Anova(m, type = 2, vcov. = vcovHC(m, type = "HC3")))
      terms_a <- setdiff(rownames(a), "Residuals")
      out$anova_type2 <- lapply(terms_a, function(t)
        list(term = t, df = as.integer(a[t, "Df"]), statistic = num(a[t, "F"]),
             p_value = num(a[t, "Pr(>F)"]), test = "Wald F"))
    } else {
      a <- Anova(m, type = 2)
      terms_a <- setdiff(rownames(a), "Residuals")
      out$anova_type2 <- lapply(terms_a, function(t)
        list(term = t, df = as.integer(a[t, "Df"]), statistic = num(a[t, "F value"]),
             p_value = num(a[t, "Pr(>F)"]), test = "F", sum_of_squares = num(a[t, "Sum Sq"])))
    }
  } else {
    if (robust) {
      a <- suppressMessages(Anova(m, type = 2, test.statistic = "Wald", vcov. = vcovHC(m, type = "HC3")))
      out$anova_type2 <- lapply(rownames(a), function(t)
        list(term = t, df = as.integer(a[t, "Df"]), statistic = num(a[t, "Chisq"]),
             p_value = num(a[t, "Pr(>Chisq)"]), test = "Wald chi2"))
    } else {
      a <- Anova(m, type = 2, test.statistic = "LR")
      out$anova_type2 <- lapply(rownames(a), function(t)
        list(term = t, df = as.integer(a[t, "Df"]), statistic = num(a[t, "LR Chisq"]),
             p_value = num(a[t, "Pr(>Chisq)"]), test = "LR"))
    }
  }
  stopifnot(identical(vapply(out$anova_type2, `[[`, "", "term"), features))

  # ---- importance (drop a term, refit on the same rows) ----
  imp <- list()
  for (v in features) {
    rest <- setdiff(features, v)
    mr <- fit(reformulate(if (length(rest)) rest else "1", response = target))
    stopifnot(nobs(mr) == n)
    imp[[v]] <- if (kind == "ols") summary(m)$r.squared - summary(mr)$r.squared
                else deviance(mr) - deviance(m)
  }
  out$importance <- imp

  # ---- per-row values ----
  rows <- list(
    line = I(lines),
    fitted = I(num(fitted(m))),
    residual = I(if (kind == "ols") num(residuals(m)) else num(residuals(m, type = "response"))),
    leverage = I(num(hatvalues(m))),
    standardized_residual = I(num(rstandard(m))),
    studentized_residual = I(num(rstudent(m))),
    cooks_distance = I(num(cooks.distance(m)))
  )
  if (kind == "logit") {
    rows$pearson_residual <- I(num(residuals(m, type = "pearson")))
    rows$deviance_residual <- I(num(residuals(m, type = "deviance")))
  }
  out$rows <- rows

  # ---- min / max of every numeric column of the whole CSV ----
  out$minmax <- lapply(names(d)[vapply(d, is.numeric, TRUE)], function(v) {
    x <- d[[v]]
    list(column = v, min = min(x, na.rm = TRUE), min_line = which.min(x) + 1L,
         max = max(x, na.rm = TRUE), max_line = which.max(x) + 1L)
  })

  json <- toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null")
  writeLines(json, file.path(expected_dir, paste0(case, ".json")), useBytes = TRUE)

  data.frame(case = case, kind = kind, n = n, n_coef = length(est),
             r2 = if (kind == "ols") summary(m)$r.squared else out$mcfadden_r2,
             r2_type = if (kind == "ols") "R^2" else "McFadden",
             stringsAsFactors = FALSE)
}

# ---- datasets ----------------------------------------------------------------
# mtcars with row names as `car` and a text column `cylinders`
mt <- data.frame(car = rownames(mtcars), mtcars, stringsAsFactors = FALSE)
rownames(mt) <- NULL
mt$cylinders <- c("4" = "four", "6" = "six", "8" = "eight")[as.character(mtcars$cyl)]
mt$cylinders <- unname(mt$cylinders)
mtcars_csv <- write_and_read(mt, "mtcars.csv")

ir <- iris
ir$Species <- as.character(ir$Species)
iris_csv <- write_and_read(ir, "iris.csv")

tg <- ToothGrowth
tg$supp <- as.character(tg$supp)
tooth_csv <- write_and_read(tg, "toothgrowth.csv")

wb <- warpbreaks
wb$wool <- as.character(wb$wool)
wb$tension <- as.character(wb$tension)
warp_csv <- write_and_read(wb, "warpbreaks.csv")

air_csv <- write_and_read(airquality, "airquality.csv")

inf <- infert
inf$education <- as.character(inf$education)
infert_csv <- write_and_read(inf, "infert.csv")

tt <- as.data.frame(Titanic, stringsAsFactors = FALSE)
titanic <- tt[rep(seq_len(nrow(tt)), tt$Freq), c("Class", "Sex", "Age", "Survived")]
rownames(titanic) <- NULL
stopifnot(nrow(titanic) == 2201L)
titanic_csv <- write_and_read(titanic, "titanic.csv")

# synthetic OLS data: heteroscedastic, AR(1) noise, correlated x1/x3, NAs
set.seed(20261127)
local({
  n <- 3000L
  x1 <- rnorm(n)
  x2 <- runif(n, 0, 100)
  x3 <- 0.6 * x1 + rnorm(n, 0, 0.8)
  x4 <- rpois(n, 3)
  glev <- c("alpha", "beta", "gamma", "delta", "epsilon")
  g <- sample(glev, n, replace = TRUE, prob = c(0.35, 0.25, 0.20, 0.15, 0.05))
  eff <- c(alpha = 0, beta = 1, gamma = -2, delta = 0.5, epsilon = 3)[g]
  u <- rnorm(n, 0, 1 + 0.02 * x2)
  e <- as.numeric(stats::filter(u, 0.3, method = "recursive"))  # e_t = 0.3 e_{t-1} + u_t
  y <- 5 + 2 * x1 - 0.03 * x2 + 1.5 * x3 + 0.4 * x4 + unname(eff) + e
  x2[sample.int(n, round(0.02 * n))] <- NA
  y[sample.int(n, round(0.01 * n))] <- NA
  syn <- data.frame(y = y, x1 = x1, x2 = x2, x3 = x3, x4 = x4, g = g, stringsAsFactors = FALSE)
  assign("synthetic_csv", write_and_read(round_numeric(syn), "synthetic_ols.csv"), envir = globalenv())
})

# synthetic churn data
set.seed(7)
local({
  n <- 600L
  tenure <- round(runif(n, 0, 72))
  charges <- round(runif(n, 20, 120), 2)
  plan <- sample(c("basic", "plus", "pro"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  peff <- c(basic = 0, plus = -0.4, pro = -0.9)[plan]
  p <- plogis(0.5 - 0.05 * tenure + 0.015 * charges + unname(peff))
  status <- ifelse(runif(n) < p, "churned", "stayed")
  charges[sample.int(n, round(0.03 * n))] <- NA
  ch <- data.frame(tenure = tenure, charges = charges, plan = plan, status = status,
                   stringsAsFactors = FALSE)
  assign("churn_csv", write_and_read(round_numeric(ch), "churn.csv"), envir = globalenv())
})

# ---- cases -------------------------------------------------------------------
summary_rows <- list(
  run_case("mtcars_ols", "mtcars.csv", mtcars_csv, "mpg", c("wt", "hp", "cylinders", "am"), FALSE, "ols"),
  run_case("mtcars_ols_hc3", "mtcars.csv", mtcars_csv, "mpg", c("wt", "hp", "cylinders", "am"), TRUE, "ols"),
  run_case("iris_ols", "iris.csv", iris_csv, "Sepal.Length",
           c("Sepal.Width", "Petal.Length", "Petal.Width", "Species"), FALSE, "ols"),
  run_case("toothgrowth_ols", "toothgrowth.csv", tooth_csv, "len", c("supp", "dose"), FALSE, "ols"),
  run_case("warpbreaks_ols", "warpbreaks.csv", warp_csv, "breaks", c("wool", "tension"), FALSE, "ols"),
  run_case("airquality_ols", "airquality.csv", air_csv, "Ozone", c("Solar.R", "Wind", "Temp", "Month"),
           FALSE, "ols"),
  run_case("synthetic_ols", "synthetic_ols.csv", synthetic_csv, "y", c("x1", "x2", "x3", "x4", "g"),
           FALSE, "ols"),
  run_case("synthetic_ols_hc3", "synthetic_ols.csv", synthetic_csv, "y", c("x1", "x2", "x3", "x4", "g"),
           TRUE, "ols"),
  run_case("mtcars_logit", "mtcars.csv", mtcars_csv, "am", c("hp", "wt"), FALSE, "logit", event = "1"),
  run_case("infert_logit", "infert.csv", infert_csv, "case",
           c("age", "parity", "education", "spontaneous", "induced"), FALSE, "logit", event = "1"),
  run_case("infert_logit_hc3", "infert.csv", infert_csv, "case",
           c("age", "parity", "education", "spontaneous", "induced"), TRUE, "logit", event = "1"),
  run_case("titanic_logit", "titanic.csv", titanic_csv, "Survived", c("Class", "Sex", "Age"),
           FALSE, "logit", event = "Yes"),
  run_case("churn_logit", "churn.csv", churn_csv, "status", c("tenure", "charges", "plan"),
           FALSE, "logit", event = "churned")
)

cat("\n", r_version, "\n", sep = "")
cat(paste(sprintf("%s %s", names(packages), unlist(packages)), collapse = ", "), "\n\n")
tab <- do.call(rbind, summary_rows)
tab$r2 <- sprintf("%.4f", tab$r2)
print(tab, row.names = FALSE)
cat(sprintf("\nDone in %.1f s\n", as.numeric(difftime(Sys.time(), t_start, units = "secs"))))
