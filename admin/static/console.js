/* The console's behaviour without inline script.
 *
 * The console's Content-Security-Policy runs no inline event handler, so the few that
 * flask-admin's templates write inline (a delete confirmation, a bulk action, a filter
 * link, an inline form's "add") reach the page as data-hub-onclick (admin/security.py)
 * and are attached here instead, with the same behaviour; buttons marked
 * data-hub-confirm ask before they submit; and
 * the console's own drop-downs marked data-hub-autosubmit submit their form on change.
 * Links to "javascript:void(0)" only open menus: their navigation is cancelled, which
 * the policy would refuse anyway.
 */
(function () {
  "use strict";

  var STRING = "'((?:[^'\\\\]|\\\\.)*)'";
  var CONFIRM = new RegExp("^\\s*return\\s+(?:faHelpers\\.safeConfirm|confirm)\\(" + STRING + "\\);?\\s*$");
  var ACTION = new RegExp("^\\s*return\\s+modelActions\\.execute\\(" + STRING + "\\);?\\s*$");
  var INLINE_FIELD = new RegExp("^\\s*faForm\\.addInlineField\\(this,\\s*" + STRING + "\\);?\\s*$");
  var RETURN_FALSE = /^\s*return\s+false;?\s*$/;

  function unquote(text) {
    return text.replace(/\\(.)/g, "$1");
  }

  function listenerFor(code) {
    var found;
    if ((found = CONFIRM.exec(code))) {
      var message = unquote(found[1]);
      return function (event) {
        if (!window.confirm(message)) {
          event.preventDefault();
        }
      };
    }
    if ((found = ACTION.exec(code))) {
      var name = unquote(found[1]);
      return function (event) {
        event.preventDefault();
        window.modelActions.execute(name);
      };
    }
    if ((found = INLINE_FIELD.exec(code))) {
      var id = unquote(found[1]);
      return function (event) {
        event.preventDefault();
        window.faForm.addInlineField(this, id);
      };
    }
    if (RETURN_FALSE.test(code)) {
      return function (event) {
        event.preventDefault();
      };
    }
    return null;
  }

  function adopt(root) {
    if (!root.querySelectorAll) {
      return;
    }
    var handled = Array.prototype.slice.call(root.querySelectorAll("[data-hub-onclick]"));
    if (root.matches && root.matches("[data-hub-onclick]")) {
      handled.push(root);
    }
    handled.forEach(function (element) {
      var listener = listenerFor(element.getAttribute("data-hub-onclick"));
      element.removeAttribute("data-hub-onclick");
      if (listener) {
        element.addEventListener("click", listener);
      }
    });
    root.querySelectorAll("[data-hub-confirm]").forEach(function (element) {
      var message = element.getAttribute("data-hub-confirm");
      element.removeAttribute("data-hub-confirm");
      element.addEventListener("click", function (event) {
        if (!window.confirm(message)) {
          event.preventDefault();
        }
      });
    });
    root.querySelectorAll("[data-hub-autosubmit]").forEach(function (element) {
      if (element.dataset.hubAdopted) {
        return;
      }
      element.dataset.hubAdopted = "1";
      element.addEventListener("change", function () {
        if (element.form) {
          element.form.submit();
        }
      });
    });
  }

  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest('a[href^="javascript:"]');
      if (link) {
        event.preventDefault();
      }
    },
    true
  );

  adopt(document);
  // Parts of pages loaded later (modal dialogs) get the same treatment.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(adopt);
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
