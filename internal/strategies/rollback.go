package strategies

import (
	"context"
	"errors"
	"fmt"
)

// errNoPrevious is returned when a rollback is asked for without a version to
// go back to.
var errNoPrevious = errors.New("no previous version known: nothing was rolled back")

// trafficUndo takes traffic away from the new version before targets are
// restored (canary weights to 0, feature flag to 0 %).
type trafficUndo struct {
	what string                          // for messages: "set canary weights of v2 to 0%"
	call func(ctx context.Context) error // nil when there is nothing to call
	done func()                          // records the undone traffic in the result
}

// restore undoes traffic first, then redeploys the previous version to
// targets. It reports whether everything was restored. Restoring the targets
// goes on when the traffic call fails: the fleet should still end up on the
// previous version.
func (r *run) restore(ctx context.Context, targets []Target, undo *trafficUndo) bool {
	ok := true
	if undo != nil {
		if err := r.undoTraffic(ctx, undo); err != nil {
			ok = false
		}
	}
	return r.restoreTargets(ctx, targets) && ok
}

func (r *run) undoTraffic(ctx context.Context, undo *trafficUndo) error {
	if undo.call != nil {
		r.info("rollback", "%s", undo.what)
		if err := undo.call(ctx); err != nil {
			err = fmt.Errorf("%s: %w", undo.what, err) // shown as a rollback error
			r.res.RollbackErrors = append(r.res.RollbackErrors, err)
			r.res.TrafficUnrestored = true
			r.errorEvent("rollback", "", r.req.PreviousVersion, "traffic not restored", err)
			return err
		}
	}
	if undo.done != nil {
		undo.done()
	}
	return nil
}

// priorTraffic is what a rollback gives the version's traffic back to:
// what it had before the apply, or none on destroy (Rollback), where
// Request.PriorTraffic is the traffic it has now.
func (r *run) priorTraffic() float64 {
	if r.toPrevious {
		return 0
	}
	return r.req.PriorTraffic
}

// restoreTo is the version a rollback puts back on t. A failed Execute
// restores the version t ran before this apply (so a failed repair of one
// drifted target leaves the others alone and puts the drifted one back), or
// PreviousVersion when that is unknown; a Rollback (destroy) restores
// PreviousVersion.
func (r *run) restoreTo(t Target) string {
	if v := r.req.ran(t.ID); v != "" && !r.toPrevious {
		return v
	}
	if rel := r.req.Reinstate; rel != nil && r.toPrevious {
		return rel.RestoreTo(t.ID)
	}
	return r.req.PreviousVersion
}

// restoreTargets redeploys to targets, concurrently, the version each ran
// before (restoreTo), health-checking each one against that version, and
// marks the outcomes. A target that ran the rollout's version before needs
// nothing.
func (r *run) restoreTargets(ctx context.Context, targets []Target) bool {
	from := r.req.Version
	var todo []Target
	for _, t := range targets {
		o := r.outcome(t)
		o.RestoredTo = r.restoreTo(t)
		if o.RestoredTo == from && !r.toPrevious {
			o.Version = from
			o.RolledBack = true
			continue
		}
		todo = append(todo, t)
	}
	results := runGroup(ctx, r.env.Limit, todo, func(ctx context.Context, t Target) targetResult {
		return deployAndWait(ctx, r.env, r.req.HealthCheck, t, r.restoreTo(t), from)
	})
	ok := true
	for i, t := range todo {
		o := r.outcome(t)
		prev := o.RestoredTo
		switch tr := results[i]; {
		case !tr.started:
			o.RollbackErr = fmt.Errorf("target %s: rollback to %s not started: %w", t.ID, prev, cancelCause(ctx))
		case tr.err != nil:
			if tr.version != "" {
				o.Version = tr.version
			}
			o.RollbackErr = fmt.Errorf("target %s: rollback to %s: %w", t.ID, prev, tr.err)
		default:
			o.Version = tr.version
			o.RolledBack = true
			r.res.RolledBack = append(r.res.RolledBack, t.ID)
			continue
		}
		ok = false
		r.res.RollbackErrors = append(r.res.RollbackErrors, o.RollbackErr)
		r.errorEvent("rollback", t.ID, prev, "target not rolled back", o.RollbackErr)
	}
	return ok
}

// leaveUnrestored records why targets were not rolled back.
func (r *run) leaveUnrestored(targets []Target, why error) {
	for _, t := range targets {
		o := r.outcome(t)
		o.RollbackErr = fmt.Errorf("target %s: not rolled back: %w", t.ID, why)
		r.res.RollbackErrors = append(r.res.RollbackErrors, o.RollbackErr)
	}
}

// rollbackOnly is the Rollback of every strategy: restore targets through
// restore, and describe the outcome. Unlike the rollback inside Execute it
// honours ctx: once cancelled, no further target is started.
func rollbackOnly(ctx context.Context, strategy string, req Request, env Env, targets []Target, restore func(r *run, ctx context.Context) bool) *Result {
	r, err := newRun(strategy, req, env)
	r.toPrevious = true
	if err != nil {
		r.res.StoppedAt = "rollback"
		r.res.Errors = append(r.res.Errors, err)
		return r.finalize()
	}
	for _, t := range targets {
		r.outcome(t)
	}
	if req.PreviousVersion == "" {
		r.res.StoppedAt = "rollback"
		r.res.Errors = append(r.res.Errors, errNoPrevious)
		r.errorEvent("rollback", "", "", "rollback not possible", errNoPrevious)
		r.notify(NoticeFailed, "rollback", r.res.TrafficPercentage, nil, errNoPrevious.Error())
		return r.finalize()
	}
	r.info("rollback", "rolling %s back to %s", nOf(len(targets), "target"), req.PreviousVersion)
	if restore(r, ctx) {
		r.res.Success = true
		r.res.Status = StatusRolledBack
		r.info("rollback", "rolled back to %s: %s", req.PreviousVersion, describeIDs(r.res.RolledBack, "no target needed it"))
		res := r.finalize()
		r.notify(NoticeRolledBack, "rollback", res.TrafficPercentage, res.RolledBack, "rolled back to "+req.PreviousVersion)
		return res
	}
	r.res.StoppedAt = "rollback"
	if ctx.Err() != nil {
		r.res.StoppedAt = "rollback (cancelled)"
	}
	err = fmt.Errorf("rollback to %s incomplete: restored %s; %s",
		req.PreviousVersion, describeIDs(r.res.RolledBack, "none"), nOf(len(r.res.RollbackErrors), "error"))
	r.res.Errors = append(r.res.Errors, err)
	res := r.finalize()
	r.notify(NoticeFailed, res.StoppedAt, res.TrafficPercentage, r.notRestored(targets), err.Error())
	return res
}
