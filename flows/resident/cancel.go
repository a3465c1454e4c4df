package resident

import (
	"fmt"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// cmdCancelRequest is the payload id of "cancel my request".
const cmdCancelRequest = "huyyeucau"

// cancelWords are the typed forms of "cancel my request", matched folded as
// whole words at the start of a message. "hủy" alone stays the engine's:
// it leaves the question being asked.
var cancelWords = []string{cmdCancelRequest, "huy yeu cau", "huy yc", "cancel request", "cancel my request"}

// Session Data keys of the cancel confirmation; the question shows them.
const (
	keyCancelCode    = "code"
	keyCancelProblem = "problem"
)

// cancelButton offers to cancel the request with the given code.
func cancelButton(c *flows.Ctx, code string) cnsbot.Button {
	return cnsbot.Button{Title: c.T("resident.btn.cancel_request", nil), Payload: "#" + cmdCancelRequest + " " + code}
}

// cancelCommand is "hủy yêu cầu" (the resident's latest open request) or
// "hủy yêu cầu HT7K3QM2": it asks once, then cancels. Someone else's code
// gets the answer a code that does not exist gets.
func (r *residents) cancelCommand(c *flows.Ctx, args string) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	if c.FlowName() == FlowCancel && c.StepName() == "confirm" {
		// Asked "cancel it?", the resident says "hủy yêu cầu" again: yes.
		if code, ok := ParseCode(args); strings.TrimSpace(args) == "" || ok && code == c.Get(keyCancelCode) {
			return true, r.confirmCancel(c)
		}
	}
	var req cnsbot.HelpRequest
	if strings.TrimSpace(args) == "" {
		if c.FlowName() == FlowCome {
			// The request is still being written: "hủy yêu cầu" drops the
			// form, as "hủy" does.
			c.Menu(c.T("flows.cancelled", nil))
			return true, nil
		}
		var err error
		req, err = r.deps.HelpDesk.OpenHelpRequestFor(c.Context(), c.UserID())
		switch {
		case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
			c.Reply(c.T("resident.cancel.none", nil), c.Button("common.menu", "menu"))
			return true, nil
		case err != nil:
			return false, fmt.Errorf("open help request: %w", err)
		}
	} else {
		code, ok := ParseCode(args)
		if !ok {
			return false, nil
		}
		own, found, answered, err := r.ownRequest(c, code)
		if err != nil || answered {
			return answered, err
		}
		if !found {
			c.Reply(c.T("resident.cancel.not_found", map[string]any{"code": code}), c.Button("common.menu", "menu"))
			return true, nil
		}
		req = own
	}
	switch req.Status {
	case cnsbot.HelpClosed:
		c.Reply(c.T("resident.cancel.closed", map[string]any{"code": req.Code}), c.Button("common.menu", "menu"))
		return true, nil
	case cnsbot.HelpCancelled:
		r.replyStatus(c, req)
		return true, nil
	}
	c.Start(FlowCancel, "", map[string]string{keyCancelCode: req.Code, keyCancelProblem: ProblemText(c.TIn, c.Lang(), req)})
	return true, nil
}

// cancelFlow asks the resident once whether to cancel the request.
func (r *residents) cancelFlow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowCancel,
		Title: "resident.cancel.name_flow",
		Steps: []*flows.Step{{
			Name: "confirm", Ask: "resident.cancel.ask", Help: "resident.cancel.help", Input: flows.InputChoice,
			Choices: []flows.Choice{
				{ID: "dongyhuy", Label: "resident.btn.cancel_yes",
					Words: []string{"dung huy", "dong y", "co", "huy di", "yes", "cancel it"}, Run: r.confirmCancel},
				{ID: "giulai", Label: "resident.btn.cancel_keep",
					Words: []string{"giu lai", "khong", "khong huy", "van can", "keep", "no", "keep it"}, Run: r.keepRequest},
			},
		}},
	}
}

// confirmCancel cancels the request and tells whoever was going to come.
func (r *residents) confirmCancel(c *flows.Ctx) error {
	code := c.Get(keyCancelCode)
	req, err := r.deps.HelpDesk.CancelHelpRequest(c.Context(), code, c.UserID())
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ECONFLICT:
		// Closed in the meantime.
		c.Reply(c.T("resident.cancel.closed", map[string]any{"code": req.Code}), c.Button("common.menu", "menu"))
		c.Done()
		return nil
	case cnsbot.ENOTFOUND:
		c.Reply(c.T("resident.cancel.not_found", map[string]any{"code": code}), c.Button("common.menu", "menu"))
		c.Done()
		return nil
	default:
		return fmt.Errorf("cancel help request: %w", err)
	}
	if err := r.notifyCancelled(c, req); err != nil {
		return err
	}
	c.Reply(c.T("resident.cancel.done", map[string]any{"code": req.Code}), c.Button("resident.menu.come", "dennha"), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}

// keepRequest leaves the request as it is.
func (r *residents) keepRequest(c *flows.Ctx) error {
	c.Reply(c.T("resident.cancel.kept", map[string]any{"code": c.Get(keyCancelCode)}), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}
